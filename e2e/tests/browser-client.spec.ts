import type { PushClient, PushClientOptions } from '@parley/client'
import { PushClient as NodePushClient } from '@parley/client'
import { expect, type Page, test } from '@playwright/test'
import { type GatewayProcess, startGatewayProcess } from '../browser/gateway-process.js'
import { bundlePackedClient } from '../browser/packed-client-bundle.js'
import { type PageServer, startPageServer } from '../browser/page-server.js'
import { startUpgradeProxy, type UpgradeProxy } from '../browser/upgrade-proxy.js'
import { uniqueName } from '../helpers.js'

/** What the page keeps about its client, read back with `page.evaluate`. */
interface PageState {
  parley: { PushClient: new (url: string, options: PushClientOptions) => PushClient }
  client: PushClient
  received: Array<{ channel: string; data: unknown }>
  transports: string[]
  connects: number
}

const ADMIN_TOKEN = 'e2e-browser-admin-token-0123456789'

/**
 * `@parley/client` packed as for npm and bundled into a page, in Chromium: over WebSocket, over long-polling
 * when a proxy refuses the upgrade (the browser's CORS rules apply: the page is on another origin than the
 * gateway), refused from an origin the gateway does not allow, and back after the gateway restarts.
 */
test.describe('the packed client in a browser page', () => {
  test.describe.configure({ mode: 'serial' })

  let gateway: GatewayProcess
  let proxy: UpgradeProxy
  let allowedPage: PageServer
  let otherPage: PageServer
  const peers: PushClient[] = []

  test.beforeAll(async () => {
    test.setTimeout(180_000)
    const bundle = await bundlePackedClient()
    allowedPage = await startPageServer(bundle)
    otherPage = await startPageServer(bundle)
    gateway = await startGatewayProcess({ allowedOrigins: [allowedPage.origin], adminToken: ADMIN_TOKEN })
    proxy = await startUpgradeProxy(gateway.port)
  })

  test.afterEach(async () => {
    for (const peer of peers.splice(0)) await peer.close()
    proxy.allowUpgrades = true
  })

  test.afterAll(async () => {
    await proxy?.close()
    await gateway?.stop()
    await allowedPage?.close()
    await otherPage?.close()
  })

  /** A client in the test process, straight to the gateway (no proxy, no origin). */
  async function connectPeer(): Promise<PushClient> {
    const peer = new NodePushClient(gateway.wsUrl, { clientId: uniqueName('peer') })
    peers.push(peer)
    await peer.connect()
    return peer
  }

  /** Opens the page, starts its client through the proxy and waits for it to connect. */
  async function connectPage(page: Page, origin: string): Promise<void> {
    await page.goto(`${origin}/`)
    await page.evaluate(
      async ({ url, clientId }) => {
        const state = window as unknown as PageState
        state.received = []
        state.transports = []
        state.connects = 0
        const client = new state.parley.PushClient(url, {
          clientId,
          reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
          websocketOpenTimeoutMs: 5_000,
        })
        client.on('channel_message', (message) => {
          state.received.push({ channel: message.channel, data: message.data })
        })
        client.on('transport_change', (change) => {
          state.transports.push(change.to)
        })
        client.on('connect', () => {
          state.connects += 1
        })
        state.client = client
        await client.connect()
      },
      { url: proxy.wsUrl, clientId: uniqueName('page') },
    )
  }

  async function pageTransport(page: Page): Promise<string | undefined> {
    return page.evaluate(() => (window as unknown as PageState).client.transport)
  }

  /** Messages in both directions: the page publishes to the peer's channel and receives the peer's. */
  async function exchange(page: Page, peer: PushClient, tag: string): Promise<void> {
    const toPage = uniqueName(`to-page-${tag}`)
    const toPeer = uniqueName(`to-peer-${tag}`)
    await page.evaluate((channel) => (window as unknown as PageState).client.subscribe(channel), toPage)
    await peer.subscribe(toPeer)
    const peerReceived = new Promise<unknown>((resolve) => {
      peer.on('channel_message', (message) => {
        if (message.channel === toPeer) resolve(message.data)
      })
    })
    const sent = await page.evaluate(
      ({ channel, data }) => (window as unknown as PageState).client.publish(channel, data),
      { channel: toPeer, data: { from: 'page', tag } },
    )
    expect(sent.delivered).toBe(1)
    expect(await peerReceived).toEqual({ from: 'page', tag })
    await peer.publish(toPage, { from: 'peer', tag })
    await page.waitForFunction(
      ({ channel, expected }) =>
        (window as unknown as PageState).received.some(
          (message) => message.channel === channel && JSON.stringify(message.data) === expected,
        ),
      { channel: toPage, expected: JSON.stringify({ from: 'peer', tag }) },
    )
  }

  test('connects over WebSocket from a page on an allowed origin and exchanges messages', async ({
    page,
  }) => {
    const peer = await connectPeer()
    await connectPage(page, allowedPage.origin)
    expect(await pageTransport(page)).toBe('websocket')
    await exchange(page, peer, 'websocket')
    await page.evaluate(() => (window as unknown as PageState).client.close())
  })

  test('falls back to long-polling when a proxy refuses WebSocket upgrades, in both directions', async ({
    page,
  }) => {
    proxy.allowUpgrades = false
    const refusedBefore = proxy.refusedUpgrades
    const peer = await connectPeer()
    await connectPage(page, allowedPage.origin)
    expect(await pageTransport(page)).toBe('polling')
    expect(proxy.refusedUpgrades).toBeGreaterThan(refusedBefore)
    expect(await page.evaluate(() => (window as unknown as PageState).transports)).toEqual([
      'websocket',
      'polling',
    ])
    await exchange(page, peer, 'polling')
    await page.evaluate(() => (window as unknown as PageState).client.close())
  })

  test('refuses a page on an origin the gateway does not allow, over WebSocket and polling', async ({
    page,
  }) => {
    await page.goto(`${otherPage.origin}/`)
    const outcome = await page.evaluate(async (url) => {
      const state = window as unknown as PageState
      const transports: string[] = []
      const client = new state.parley.PushClient(url, {
        reconnect: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 3 },
        websocketOpenTimeoutMs: 5_000,
      })
      client.on('transport_change', (change) => {
        transports.push(change.to)
      })
      const connected = await client.connect().then(
        () => 'connected',
        (error: unknown) => `refused: ${String(error)}`,
      )
      // The polling endpoint itself, as a page's script would call it: CORS gives it no answer to read.
      const pollOpen = await fetch(url.replace(/^ws/, 'http').replace(/\/ws$/, '/poll/open'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }).then(
        (response) => `answered ${response.status}`,
        (error: unknown) => `blocked: ${String(error)}`,
      )
      await client.close()
      return { connected, transports, pollOpen }
    }, proxy.wsUrl)
    expect(outcome.connected).toMatch(/^refused/)
    expect(outcome.transports).toContain('polling')
    expect(outcome.pollOpen).toMatch(/^blocked/)
    // The same call from the allowed origin is answered.
    await page.goto(`${allowedPage.origin}/`)
    const allowed = await page.evaluate(
      (url) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then(
          (response) => response.status,
        ),
      `${gateway.url}/poll/open`,
    )
    expect(allowed).toBe(200)
  })

  test('reconnects after the gateway restarts and carries on', async ({ page }) => {
    // A gateway process starting on a busy machine takes a while.
    test.setTimeout(120_000)
    await connectPage(page, allowedPage.origin)
    expect(await pageTransport(page)).toBe('websocket')
    await gateway.restart()
    await page.waitForFunction(() => (window as unknown as PageState).connects >= 2, undefined, {
      timeout: 60_000,
    })
    const peer = await connectPeer()
    await exchange(page, peer, 'after-restart')
    await page.evaluate(() => (window as unknown as PageState).client.close())
  })
})
