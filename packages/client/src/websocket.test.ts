import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocket as NodeWebSocket } from 'ws'
import { CLIENT_NAME, CLIENT_VERSION } from './version.js'
import { messageText, resolveWebSocket, type WebSocketConstructor } from './websocket.js'

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('resolveWebSocket', () => {
  it('prefers the constructor given in the options', async () => {
    class Custom extends NodeWebSocket {}
    expect(await resolveWebSocket(Custom)).toBe(Custom)
  })

  it('uses the global WebSocket when the runtime has one (browsers, Node 22+)', async () => {
    class GlobalSocket extends NodeWebSocket {}
    vi.stubGlobal('WebSocket', GlobalSocket)
    expect(await resolveWebSocket()).toBe(GlobalSocket)
  })

  it('falls back to the ws package when there is no global WebSocket (Node 20)', async () => {
    vi.stubGlobal('WebSocket', undefined)
    expect(await resolveWebSocket()).toBe(NodeWebSocket)
  })

  it('accepts the ws and DOM constructor types without casts', () => {
    const fromWs: WebSocketConstructor = NodeWebSocket
    const fromDom: (ctor: typeof WebSocket) => WebSocketConstructor = (ctor) => ctor
    expect(typeof fromWs).toBe('function')
    expect(typeof fromDom).toBe('function')
  })
})

describe('messageText', () => {
  it('decodes text, ArrayBuffer and Buffer frames and ignores anything else', () => {
    expect(messageText('{"a":1}')).toBe('{"a":1}')
    expect(messageText(new TextEncoder().encode('hi').buffer)).toBe('hi')
    expect(messageText(Buffer.from('hey'))).toBe('hey')
    expect(messageText(42)).toBeUndefined()
  })
})

describe('version', () => {
  it('announces the version in package.json', async () => {
    const { readFile } = await import('node:fs/promises')
    const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      name: string
      version: string
    }
    expect(CLIENT_NAME).toBe(manifest.name)
    expect(CLIENT_VERSION).toBe(manifest.version)
  })
})
