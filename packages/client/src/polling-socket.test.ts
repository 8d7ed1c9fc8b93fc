import { afterEach, describe, expect, it, vi } from 'vitest'
import { type FetchLike, PollingSocket, pollingBaseUrl } from './polling-socket.js'

interface Call {
  path: string
  body: Record<string, unknown>
}

/** A fetch that answers `/poll/*` from a script: each handler returns a body, or throws to lose the answer. */
function scriptedFetch(handlers: Record<string, Array<() => unknown>>) {
  const calls: Call[] = []
  const fetchImpl: FetchLike = async (input, init) => {
    const path = String(input).replace(/^.*\/poll\//, '')
    const body = JSON.parse(String(init?.body ?? '{}')) as Record<string, unknown>
    calls.push({ path, body })
    const next = handlers[path]?.shift()
    if (next === undefined) {
      // Hang like a long poll until aborted.
      return new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted')))
      })
    }
    return new Response(JSON.stringify(next()), { status: 200 })
  }
  return { fetchImpl, calls }
}

function events(socket: PollingSocket) {
  const messages: unknown[] = []
  const closes: Array<{ code: number; reason: string }> = []
  let opened = 0
  const closed = new Promise<void>((resolve) => {
    socket.onclose = (event) => {
      closes.push({ code: event.code, reason: event.reason })
      resolve()
    }
  })
  socket.onopen = () => {
    opened += 1
  }
  socket.onmessage = (event) => messages.push(JSON.parse(String(event.data)))
  return { messages, closes, closed, opened: () => opened }
}

describe('pollingBaseUrl', () => {
  it('maps the WebSocket URL to the polling endpoints beside it', () => {
    expect(pollingBaseUrl('ws://127.0.0.1:8080/ws')).toBe('http://127.0.0.1:8080/poll')
    expect(pollingBaseUrl('wss://gw.example/parley/ws')).toBe('https://gw.example/parley/poll')
    expect(pollingBaseUrl('ws://gw.example:81')).toBe('http://gw.example:81/poll')
  })
})

describe('PollingSocket', () => {
  it('repeats a recv whose answer was lost with the same ack, so every frame arrives once', async () => {
    const { fetchImpl, calls } = scriptedFetch({
      open: [() => ({ session: 'node.s1', longPollTimeoutMs: 30_000, maxBatchSize: 100 })],
      recv: [
        () => ({
          cursor: 2,
          frames: [
            { type: 'pong', n: 1 },
            { type: 'pong', n: 2 },
          ],
        }),
        () => {
          throw new Error('connection reset')
        },
        () => ({
          cursor: 3,
          frames: [{ type: 'pong', n: 3 }],
          closed: { code: 4001, reason: 'token revoked' },
        }),
      ],
      close: [() => ({ closed: true })],
    })
    const socket = new PollingSocket('ws://gw.test/ws', { fetch: fetchImpl, retryDelayMs: 1 })
    const seen = events(socket)
    await seen.closed
    expect(seen.opened()).toBe(1)
    expect(seen.messages).toEqual([
      { type: 'pong', n: 1 },
      { type: 'pong', n: 2 },
      { type: 'pong', n: 3 },
    ])
    expect(calls.filter((call) => call.path === 'recv').map((call) => call.body.ack)).toEqual([0, 2, 2])
    // The gateway's close becomes onclose with its code, and is answered with /poll/close.
    expect(seen.closes).toEqual([{ code: 4001, reason: 'token revoked' }])
    expect(calls.at(-1)).toEqual({ path: 'close', body: { session: 'node.s1' } })
    expect(socket.readyState).toBe(3)
  })

  it('sends frames in order, batched per /poll/send, and ends the session on close()', async () => {
    const { fetchImpl, calls } = scriptedFetch({
      open: [() => ({ session: 'node.s2', longPollTimeoutMs: 30_000, maxBatchSize: 100 })],
      send: [() => ({ accepted: 1 }), () => ({ accepted: 2 })],
      close: [() => ({ closed: true })],
    })
    const socket = new PollingSocket('ws://gw.test/ws', { fetch: fetchImpl })
    const seen = events(socket)
    await new Promise<void>((resolve) => {
      socket.onopen = () => resolve()
    })
    socket.send('{"type":"ping","id":"a"}')
    socket.send('{"type":"ping","id":"b"}')
    socket.send('{"type":"ping","id":"c"}')
    await expect.poll(() => calls.filter((call) => call.path === 'send').length).toBe(2)
    const sent = calls.filter((call) => call.path === 'send').flatMap((call) => call.body.frames as string[])
    expect(sent.map((text) => JSON.parse(text).id)).toEqual(['a', 'b', 'c'])
    socket.close(1000, 'bye')
    await seen.closed
    expect(seen.closes).toEqual([{ code: 1000, reason: 'bye' }])
    expect(calls.at(-1)).toEqual({ path: 'close', body: { session: 'node.s2' } })
  })

  it('reports a refused open as a close with 1006 and never opens', async () => {
    const fetchImpl: FetchLike = async () => new Response('{}', { status: 503 })
    const socket = new PollingSocket('ws://gw.test/ws', { fetch: fetchImpl })
    const seen = events(socket)
    await seen.closed
    expect(seen.opened()).toBe(0)
    expect(seen.closes[0]?.code).toBe(1006)
  })

  describe('with the global fetch of a browser', () => {
    afterEach(() => {
      vi.unstubAllGlobals()
    })

    it('calls the global fetch on the global object, as a browser requires', async () => {
      // A browser's fetch throws "Illegal invocation" when called as a method of anything but the window.
      const paths: string[] = []
      const browserFetch = function (this: unknown, input: RequestInfo | URL): Promise<Response> {
        if (this !== undefined && this !== globalThis) {
          return Promise.reject(new TypeError("Failed to execute 'fetch' on 'Window': Illegal invocation"))
        }
        const path = String(input).replace(/^.*\/poll\//, '')
        paths.push(path)
        if (path === 'open') {
          return Promise.resolve(
            new Response(
              JSON.stringify({ session: 'node.s4', longPollTimeoutMs: 30_000, maxBatchSize: 100 }),
            ),
          )
        }
        if (path === 'send') return Promise.resolve(new Response('{"accepted":1}'))
        // recv: hang like a long poll.
        return new Promise<Response>(() => undefined)
      }
      vi.stubGlobal('fetch', browserFetch)
      const socket = new PollingSocket('ws://gw.test/ws')
      const seen = events(socket)
      await new Promise<void>((resolve, reject) => {
        socket.onopen = () => resolve()
        socket.onclose = (event) => reject(new Error(`closed with ${event.code}: ${event.reason}`))
      })
      socket.send('{"type":"ping","id":"p"}')
      await expect.poll(() => paths.includes('send')).toBe(true)
      expect(paths[0]).toBe('open')
      expect(seen.closes).toEqual([])
    })
  })

  it('counts the session lost when the gateway no longer knows it (404)', async () => {
    const fetchImpl: FetchLike = async (input) =>
      String(input).endsWith('/open')
        ? new Response(JSON.stringify({ session: 'node.s3', longPollTimeoutMs: 1, maxBatchSize: 1 }))
        : new Response('{"error":{"code":"not_found"}}', { status: 404 })
    const socket = new PollingSocket('ws://gw.test/ws', { fetch: fetchImpl })
    const seen = events(socket)
    await seen.closed
    expect(seen.closes).toEqual([{ code: 1006, reason: 'the poll session is gone' }])
  })
})
