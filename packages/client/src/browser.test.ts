import { fileURLToPath } from 'node:url'
import { createContext, runInContext } from 'node:vm'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { WebSocket as NodeWebSocket } from 'ws'
import type * as ClientModule from './index.js'
import { verifyChallenge } from './index.js'
import { useFixtures } from './test-support/fixtures.js'

const fixtures = useFixtures()
const entry = fileURLToPath(new URL('./index.ts', import.meta.url))

/**
 * Bundles the package for the browser and evaluates it in a fresh V8 context that has only what a browser
 * page offers (no `process`, `Buffer`, `require`, `global`, `setImmediate`): loading it or using it must not
 * reach for Node.
 */
async function loadInBrowserLikeContext(): Promise<typeof ClientModule> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'ParleyClient',
    write: false,
    logLevel: 'warning',
  })
  const code = result.outputFiles[0]?.text ?? ''
  const context = createContext({
    // The page's WebSocket; that it is implemented with `ws` here is invisible to the bundle.
    WebSocket: NodeWebSocket,
    TextDecoder,
    TextEncoder,
    URL,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    // The page's WebCrypto, for the identity helpers.
    crypto: globalThis.crypto,
  })
  runInContext('globalThis.self = globalThis; globalThis.window = globalThis', context)
  runInContext(code, context, { filename: 'parley-client.browser.js' })
  return (context as { ParleyClient: typeof ClientModule }).ParleyClient
}

describe('@parley/client in a browser-like runtime', () => {
  it('loads without Node globals, then connects, subscribes and receives over the page WebSocket', async () => {
    const server = await fixtures.server()
    const { PushClient } = await loadInBrowserLikeContext()
    const client = new PushClient(server.url, { reconnect: false })
    try {
      await client.connect()
      await client.subscribe('page')
      const message = client.waitFor('page', { timeout: 2_000 })
      await client.publish('page', { from: 'browser' })
      expect(await message).toMatchObject({ channel: 'page', data: { from: 'browser' } })
    } finally {
      await client.close()
    }
  })

  it('generates, exports, imports and signs with an agent identity using only WebCrypto (no Buffer, no node:crypto)', async () => {
    const browser = await loadInBrowserLikeContext()
    const identity = await browser.generateIdentity()
    const restored = await browser.importIdentity(await browser.exportIdentity(identity))
    const signed = await browser.signChallenge(restored, {
      nonce: 'page-nonce',
      timestamp: 1_760_000_000_000,
    })
    expect(signed.id).toBe(identity.id)
    expect(await browser.verifyChallenge(identity.id, signed)).toBe(true)
    // The page's bytes and signature are what the Node side (the gateway) verifies.
    expect(await verifyChallenge(browser.publicKeyFromDidKey(identity.id), signed)).toBe(true)
    expect(await browser.verifyChallenge(identity.id, { ...signed, nonce: 'other' })).toBe(false)
  })
})
