import { type ChannelMessage, PushClient, type TransportChange } from '@parley/client'
import { afterEach, describe, expect, it } from 'vitest'
import { dropEveryNth, startTestProxy, type TestProxy } from '../support/http-proxy.js'
import { TestClient } from '../support/test-client.js'
import { startTestGateway, type TestGateway } from '../support/test-gateway.js'

const FAST_RECONNECT = { initialDelayMs: 50, maxDelayMs: 250 }

/** Resolves once `condition` holds, checking every few ms; rejects after the deadline. */
async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('PushClient over HTTP long-polling', () => {
  let server: TestGateway | undefined
  let proxy: TestProxy | undefined
  const clients: PushClient[] = []
  const testClients: TestClient[] = []

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()))
    for (const client of testClients.splice(0)) client.close()
    await proxy?.close()
    await server?.dispose()
    proxy = undefined
    server = undefined
  })

  it('falls back to polling behind a proxy that refuses upgrades and loses 20% of recv answers, and receives every publication once, in order', async () => {
    server = await startTestGateway()
    proxy = await startTestProxy(server.started.port, {
      allowUpgrades: false,
      dropResponse: dropEveryNth('/poll/recv', 5),
    })
    const changes: TransportChange[] = []
    const subscriber = new PushClient(proxy.wsUrl, { clientId: 'sdk-lossy', reconnect: FAST_RECONNECT })
    clients.push(subscriber)
    subscriber.on('transport_change', (change) => changes.push(change))
    const received: ChannelMessage[] = []
    subscriber.on('channel_message', (message) => {
      received.push(message)
    })
    const welcome = await subscriber.connect()
    expect(welcome.transport).toBe('polling')
    expect(subscriber.transport).toBe('polling')
    expect(changes).toEqual([
      { from: undefined, to: 'websocket' },
      { from: 'websocket', to: 'polling' },
    ])
    await subscriber.subscribe('sdk.lossy')

    const publisher = await TestClient.connect(server.started.wsUrl)
    testClients.push(publisher)
    const total = 500
    const round = 20
    for (let n = 0; n < total; n += 1) {
      await publisher.ok({ type: 'publish', channel: 'sdk.lossy', data: n })
      // Rounds the subscriber must receive before the next: at least 25 recv answers carry messages, so however
      // the machine batches them, every fifth recv answer lost means at least 5 losses.
      if ((n + 1) % round === 0) await until(() => received.length >= n + 1, 60_000, `${n + 1} messages`)
    }
    // Anything extra would have arrived with the last ones.
    await publisher.ok({ type: 'publish', channel: 'sdk.lossy', data: 'end' })
    await until(() => received.at(-1)?.data === 'end', 10_000, 'the end marker')

    expect(received.map((message) => message.data)).toEqual([
      ...Array.from({ length: total }, (_, n) => n),
      'end',
    ])
    // Losses really happened.
    expect(proxy.dropped).toBeGreaterThanOrEqual(5)
    expect(subscriber.transport).toBe('polling')
  })

  it.each([
    ['answered 403', 'forbidden'],
    ['cut', 'drop'],
    ['never answered', 'hang'],
  ] as const)(
    'falls back to polling when upgrades are %s, moves back to WebSocket once they pass, and loses or repeats nothing across the switches',
    async (_label, upgradeRefusal) => {
      server = await startTestGateway()
      proxy = await startTestProxy(server.started.port, { allowUpgrades: false, upgradeRefusal })
      const changes: TransportChange[] = []
      const mobile = new PushClient(proxy.wsUrl, {
        clientId: 'sdk-mobile',
        reconnect: FAST_RECONNECT,
        websocketProbeIntervalMs: 100,
        // A swallowed upgrade is noticed by the connect timeout.
        connectTimeoutMs: 1_000,
      })
      clients.push(mobile)
      mobile.on('transport_change', (change) => changes.push(change))
      const fromDesk: unknown[] = []
      mobile.on('channel_message', (message) => {
        if (message.channel === 'to.mobile') fromDesk.push(message.data)
      })
      await mobile.connect()
      expect(mobile.transport).toBe('polling')
      expect(proxy.refusedUpgrades).toBeGreaterThan(0)
      await mobile.subscribe('to.mobile')

      const desk = new PushClient(server.started.wsUrl, { clientId: 'sdk-desk', reconnect: FAST_RECONNECT })
      clients.push(desk)
      const fromMobile: unknown[] = []
      desk.on('channel_message', (message) => {
        if (message.channel === 'to.desk') fromMobile.push(message.data)
      })
      await desk.connect()
      expect(desk.transport).toBe('websocket')
      await desk.subscribe('to.desk')

      // Both directions keep flowing while the transport changes under the mobile client.
      let sent = 0
      let flowing = true
      const traffic = (async () => {
        while (flowing) {
          await desk.publish('to.mobile', sent)
          await mobile.publish('to.desk', sent)
          sent += 1
        }
      })()
      await until(() => fromDesk.length >= 20 && fromMobile.length >= 20, 20_000, 'traffic over polling')
      expect(mobile.transport).toBe('polling')

      proxy.allowUpgrades = true
      await until(
        () => mobile.transport === 'websocket' && mobile.state === 'connected',
        20_000,
        'the move back',
      )
      const afterSwitch = sent
      await until(() => sent >= afterSwitch + 20, 20_000, 'traffic over WebSocket')
      flowing = false
      await traffic
      await until(
        () => fromDesk.length >= sent && fromMobile.length >= sent,
        20_000,
        'every message delivered',
      )

      expect(changes).toEqual([
        { from: undefined, to: 'websocket' },
        { from: 'websocket', to: 'polling' },
        { from: 'polling', to: 'websocket' },
      ])
      const expected = Array.from({ length: sent }, (_, n) => n)
      expect(fromDesk).toEqual(expected)
      expect(fromMobile).toEqual(expected)
    },
  )
})
