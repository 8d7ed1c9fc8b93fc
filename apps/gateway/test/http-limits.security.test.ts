import { connect, type Socket } from 'node:net'
import { setTimeout as pause } from 'node:timers/promises'
import { HttpError } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { TestClient } from './support/test-client.js'
import { adminHeaders, startTestGateway, type TestGateway } from './support/test-gateway.js'

let server: TestGateway | undefined
const sockets: Socket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await server?.dispose()
  server = undefined
})

/** A raw TCP connection to the gateway: what it receives, and a promise of its close. */
async function rawSocket(url: string) {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  sockets.push(socket)
  let received = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    received += chunk
  })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  return { socket, received: () => received, closed }
}

/** Resolves once what the socket received matches, or rejects when it closes first or after `timeoutMs`. */
function receivedMatching(raw: Awaited<ReturnType<typeof rawSocket>>, pattern: RegExp, timeoutMs = 10_000) {
  return new Promise<string>((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer)
      raw.socket.off('data', check)
      raw.socket.off('close', onClose)
      if (error === undefined) resolve(raw.received())
      else reject(error)
    }
    const timer = setTimeout(() => done(new Error(`no ${pattern} within ${timeoutMs} ms`)), timeoutMs)
    const check = () => {
      if (pattern.test(raw.received())) done()
    }
    const onClose = () => done(new Error(`the socket closed before ${pattern}; received: ${raw.received()}`))
    raw.socket.on('data', check)
    raw.socket.once('close', onClose)
    check()
  })
}

/** Request options that stream `body` (Node's fetch needs `duplex: 'half'`, which the DOM types lack). */
function streaming(body: ReadableStream<Uint8Array>, headers: Record<string, string>): RequestInit {
  return { method: 'POST', headers, body, duplex: 'half' } as RequestInit
}

/** A body sent chunked (no Content-Length): a stream of `total` bytes of JSON-ish text. */
function chunkedBody(total: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close()
      const size = Math.min(chunk, total - sent)
      sent += size
      controller.enqueue(new Uint8Array(size).fill(0x78))
    },
  })
}

describe('HTTP body limits', () => {
  it('refuses an admin API body over http.maxBodySize with 413 payload_too_large, with or without Content-Length', async () => {
    server = await startTestGateway({ http: { maxBodySize: 1024 } })
    const url = `${server.started.url}/api/admin/tokens`
    const headers = { ...adminHeaders(), 'content-type': 'application/json' }
    const big = JSON.stringify({ name: 'x'.repeat(2048), role: 'client', scopes: [] })
    const sized = await fetch(url, { method: 'POST', headers, body: big })
    expect(sized.status).toBe(413)
    expect(HttpError.parse(await sized.json()).error).toMatchObject({ code: 'payload_too_large' })

    const chunked = await fetch(url, streaming(chunkedBody(4096, 512), headers))
    expect(chunked.status).toBe(413)
    expect(HttpError.parse(await chunked.json()).error.code).toBe('payload_too_large')

    // A chunked body within the limit still reaches the route.
    const small = new TextEncoder().encode(JSON.stringify({ name: 'ci', role: 'client', scopes: [] }))
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(small.slice(0, 10))
        controller.enqueue(small.slice(10))
        controller.close()
      },
    })
    const created = await fetch(url, streaming(stream, headers))
    expect(created.status).toBe(201)
  })

  it('answers 413 on the announced Content-Length alone, before any of the body is sent', async () => {
    server = await startTestGateway()
    const raw = await rawSocket(server.started.url)
    raw.socket.write(
      [
        'POST /api/admin/policies HTTP/1.1',
        'Host: gateway',
        `Authorization: ${adminHeaders().authorization}`,
        'Content-Type: application/json',
        `Content-Length: ${200 * 1024 * 1024}`,
        '',
        '',
      ].join('\r\n'),
    )
    expect(await receivedMatching(raw, /"payload_too_large"/)).toMatch(/^HTTP\/1\.1 413 /)
  })

  it('keeps reading an oversized upload after its 413, so a slow client finishes sending and keeps its connection', async () => {
    server = await startTestGateway({ maxPayload: 16 * 1024 })
    const raw = await rawSocket(server.started.url)
    const chunk = Buffer.alloc(128 * 1024, 0x78)
    const chunks = 12
    raw.socket.write(
      `POST /poll/send HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${chunks * chunk.length}\r\n\r\n`,
    )
    raw.socket.write(chunk)
    expect(await receivedMatching(raw, /"payload_too_large"/)).toMatch(/^HTTP\/1\.1 413 /)
    // A client on a slow link: the rest of its body comes over more than a second. Pacing, not waiting.
    for (let sent = 1; sent < chunks; sent++) {
      await pause(100)
      await new Promise<void>((resolve, reject) =>
        raw.socket.write(chunk, (error) => (error ? reject(error) : resolve())),
      )
    }
    raw.socket.write('GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n')
    expect(await receivedMatching(raw, /HTTP\/1\.1 200 /)).toContain('"status":"ok"')
  })

  it('lets 40 fetch clients uploading oversized poll bodies at once all read the 413, chunked or not', async () => {
    server = await startTestGateway({ maxPayload: 16 * 1024 })
    const url = `${server.started.url}/poll/send`
    const size = 2 * 1024 * 1024
    const payload = new Uint8Array(size).fill(0x78)
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, async (_, index) => {
        try {
          const headers = { 'content-type': 'application/json' }
          const response = await fetch(
            url,
            index % 2 === 0
              ? { method: 'POST', headers, body: payload }
              : streaming(chunkedBody(size), headers),
          )
          return `${response.status} ${HttpError.parse(await response.json()).error.code}`
        } catch (error) {
          return `socket error: ${String((error as Error).cause ?? error)}`
        }
      }),
    )
    expect(outcomes).toEqual(Array.from({ length: 40 }, () => '413 payload_too_large'))
  })
})

describe('HTTP timeouts', () => {
  it('answers 408 and closes a socket that sends its headers slower than http.headersTimeout', async () => {
    server = await startTestGateway({ http: { headersTimeout: 0.2, requestTimeout: 1 } })
    const raw = await rawSocket(server.started.url)
    raw.socket.write('GET /health HTTP/1.1\r\nHost: gateway\r\n')
    await raw.closed
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /)
  })

  it('closes a socket that never sends a request within http.headersTimeout', async () => {
    server = await startTestGateway({ http: { headersTimeout: 0.2, requestTimeout: 1 } })
    const raw = await rawSocket(server.started.url)
    await raw.closed
    expect(raw.socket.destroyed).toBe(true)
  })

  it('answers a poll that hangs longer than the request timeout: the timeout covers receiving the request only', async () => {
    server = await startTestGateway({
      polling: { longPollTimeout: 1.5 },
      http: { headersTimeout: 0.1, requestTimeout: 0.2 },
    })
    const post = (path: string, body: object) =>
      fetch(`${server?.started.url}/poll/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const { session } = (await (await post('open', {})).json()) as { session: string }
    const hanging = await post('recv', { session, ack: 0 })
    expect(hanging.status).toBe(200)
    expect(await hanging.json()).toEqual({ cursor: 0, frames: [] })
  })

  it('keeps WebSocket connections open well past the request timeout', async () => {
    server = await startTestGateway({
      heartbeatInterval: 0.5,
      http: { headersTimeout: 0.1, requestTimeout: 0.2 },
    })
    const client = await TestClient.connect(server.started.wsUrl)
    client.onFrame((frame) => {
      if (frame.type === 'ping') client.send({ type: 'pong', ts: frame.ts })
    })
    // Pings come every 0.5 s (answered, so it is not reaped): the fifth is 2.5 s after the upgrade, past many
    // connection checks.
    await client.waitUntil(() => client.framesOf('ping').length >= 5, 10_000, 'five pings')
    expect(await client.ok({ type: 'publish', channel: 'alive', data: 1 })).toMatchObject({
      channel: 'alive',
    })
    client.close()
  })
})
