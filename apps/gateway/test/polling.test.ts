import { Writable } from 'node:stream'
import { ConnectionList, HttpError, PollOpenResponse, PollRecvResponse } from '@parley/protocol'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryBusNetwork } from '../src/bus/memory-bus.js'
import { BUS_TOPICS } from '../src/bus/types.js'
import { BUS_GROUPS } from '../src/cluster/cluster-node.js'
import type { GatewayConfigInput } from '../src/config.js'
import { PollingTestClient } from './support/polling-test-client.js'
import { TestClient } from './support/test-client.js'
import { adminHeaders, startTestGateway, type TestGateway } from './support/test-gateway.js'

const MAX_PAYLOAD = 4096

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/poll/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as unknown }
}

async function openSession(url: string, headers: Record<string, string> = {}): Promise<string> {
  const opened = await post(url, 'open', {}, headers)
  expect(opened.status).toBe(200)
  return PollOpenResponse.parse(opened.body).session
}

describe('HTTP long-polling endpoints', () => {
  const gateways: TestGateway[] = []
  const clients: Array<{ close(): void }> = []

  async function start(
    config: GatewayConfigInput = {},
    options: Parameters<typeof startTestGateway>[1] = {},
  ) {
    const gateway = await startTestGateway({ maxPayload: MAX_PAYLOAD, ...config }, options)
    gateways.push(gateway)
    return gateway
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    for (const gateway of gateways.splice(0)) await gateway.dispose()
  })

  it('opens a session with its long-poll timeout and batch size, and an id that is not guessable', async () => {
    const server = await start({ polling: { longPollTimeout: 5, maxBatchSize: 7 } })
    const opened = PollOpenResponse.parse((await post(server.started.url, 'open', {})).body)
    expect(opened).toMatchObject({ longPollTimeoutMs: 5_000, maxBatchSize: 7 })
    // The node's id, then 128 random bits.
    expect(opened.session).toMatch(/^node_[0-9a-f]+\.[A-Za-z0-9_-]{22}$/)
  })

  it('returns at most maxBatchSize frames per recv and drops frames only once acknowledged', async () => {
    const server = await start({ polling: { maxBatchSize: 2 } })
    const session = await openSession(server.started.url)
    const recv = async (ack: number) =>
      PollRecvResponse.parse((await post(server.started.url, 'recv', { session, ack, waitMs: 2_000 })).body)
    const hello = JSON.stringify({ type: 'hello', id: 'h', protocol: { min: 1, max: 1 } })
    await post(server.started.url, 'send', { session, frames: [hello] })
    const welcome = await recv(0)
    expect(welcome.frames).toMatchObject([{ type: 'welcome' }])
    const ping = (id: string) => JSON.stringify({ type: 'ping', id })
    await post(server.started.url, 'send', { session, frames: [ping('p1'), ping('p2'), ping('p3')] })
    const first = await recv(welcome.cursor)
    expect(first.cursor).toBe(welcome.cursor + first.frames.length)
    expect(first.frames.length).toBeLessThanOrEqual(2)
    // The same ack again (its answer lost): the same frames.
    expect(await recv(welcome.cursor)).toEqual(first)
    const rest: unknown[] = [...first.frames]
    let cursor = first.cursor
    while (rest.length < 3) {
      const next = await recv(cursor)
      expect(next.frames.length).toBeLessThanOrEqual(2)
      rest.push(...next.frames)
      cursor = next.cursor
    }
    expect(rest.map((frame) => (frame as { type: string }).type)).toEqual(['pong', 'pong', 'pong'])
    // Acknowledged frames are gone.
    const empty = await recv(cursor)
    expect(empty).toEqual({ cursor, frames: [] })
  })

  it('answers an ack beyond the last frame with bad_request', async () => {
    const server = await start()
    const session = await openSession(server.started.url)
    const answer = await post(server.started.url, 'recv', { session, ack: 5, waitMs: 0 })
    expect(answer.status).toBe(400)
    expect(HttpError.parse(answer.body).error.code).toBe('bad_request')
  })

  it('answers a second recv by releasing the first at once with no frames', async () => {
    // Long polls of two minutes: a release "at once" is told from one at the end of the wait by a bound a
    // loaded machine keeps.
    const server = await start({ polling: { longPollTimeout: 120 } })
    const session = await openSession(server.started.url)
    const started = performance.now()
    const settled: Array<{ body: unknown }> = []
    const recv = () =>
      post(server.started.url, 'recv', { session, ack: 0, waitMs: 120_000 }).then((answer) => {
        settled.push(answer)
        return answer
      })
    const both = Promise.all([recv(), recv()])
    // Whichever arrived second released the other at once, without frames, long before its 120 s were up.
    await expect.poll(() => settled.length, { timeout: 30_000 }).toBe(1)
    expect(settled[0]?.body).toEqual({ cursor: 0, frames: [] })
    expect(performance.now() - started).toBeLessThan(30_000)
    // The one still waiting gets the welcome.
    const hello = JSON.stringify({ type: 'hello', id: 'h', protocol: { min: 1, max: 1 } })
    await post(server.started.url, 'send', { session, frames: [hello] })
    await both
    expect(settled[1]?.body).toMatchObject({ cursor: 1, frames: [{ type: 'welcome' }] })
  })

  it('answers malformed bodies with 400, unknown sessions with 404 and oversize bodies with 413', async () => {
    const server = await start()
    const { url } = server.started
    expect((await post(url, 'recv', '{nope')).status).toBe(400)
    expect((await post(url, 'recv', { session: 'x', ack: -1 })).status).toBe(400)
    expect((await post(url, 'send', { session: 'x', frames: 'not a list' })).status).toBe(400)
    const unknown = await post(url, 'recv', { session: `${'node_0'}.AAAAAAAAAAAAAAAAAAAAAA`, ack: 0 })
    expect(unknown.status).toBe(404)
    expect(HttpError.parse(unknown.body).error.code).toBe('not_found')
    const session = await openSession(url)
    const big = await post(url, 'send', { session, frames: ['x'.repeat(4 * MAX_PAYLOAD + 10)] })
    expect(big.status).toBe(413)
    expect(HttpError.parse(big.body).error.code).toBe('payload_too_large')
  })

  it('refuses a browser origin that is not allowed with 403, like the upgrade', async () => {
    const server = await start({ allowedOrigins: ['https://app.example'] })
    const refused = await post(server.started.url, 'open', {}, { origin: 'https://evil.example' })
    expect(refused.status).toBe(403)
    expect(HttpError.parse(refused.body).error.code).toBe('forbidden')
    expect((await post(server.started.url, 'open', {}, { origin: 'https://app.example' })).status).toBe(200)
  })

  it('answers the CORS preflight and requests of an allowed origin, and refuses other origins', async () => {
    const server = await start({ allowedOrigins: ['https://app.example'] })
    const preflight = (origin: string) =>
      fetch(`${server.started.url}/poll/open`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,authorization',
        },
      })
    const allowed = await preflight('https://app.example')
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST')
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(
      expect.arrayContaining(['content-type', 'authorization']),
    )
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull()
    const refused = await preflight('https://evil.example')
    expect(refused.status).toBe(403)
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
    // The request itself carries the header the browser needs to hand the answer to the page.
    const opened = await fetch(`${server.started.url}/poll/open`, {
      method: 'POST',
      headers: { origin: 'https://app.example', 'content-type': 'application/json' },
      body: '{}',
    })
    expect(opened.status).toBe(200)
    expect(opened.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(opened.headers.get('vary')).toContain('Origin')
  })

  it('answers an oversized body from an allowed origin with a 413 the page can read (CORS headers included)', async () => {
    const maxPayload = 4_096
    const server = await start({ allowedOrigins: ['https://app.example'], maxPayload })
    const origin = 'https://app.example'
    const opened = await fetch(`${server.started.url}/poll/open`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: '{}',
    })
    const { session } = PollOpenResponse.parse(await opened.json())
    const tooBig = await fetch(`${server.started.url}/poll/send`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({ session, frames: ['x'.repeat(4 * maxPayload + 1)] }),
    })
    expect(tooBig.status).toBe(413)
    expect(tooBig.headers.get('access-control-allow-origin')).toBe(origin)
    expect(HttpError.parse(await tooBig.json()).error.code).toBe('payload_too_large')
  })

  it('takes Authorization: Bearer on /poll/open like the upgrade header', async () => {
    const token = 'poll-bearer-token-0123456789'
    const server = await start({ authToken: token })
    const client = await PollingTestClient.open(server.started.url, {
      headers: { authorization: `Bearer ${token}` },
    })
    clients.push(client)
    expect(await client.hello()).toMatchObject({ type: 'welcome', transport: 'polling' })
    // The admin API lists it as a polling connection.
    const listed = await fetch(`${server.started.url}/api/admin/connections`, { headers: adminHeaders() })
    expect(ConnectionList.parse(await listed.json()).connections).toMatchObject([{ transport: 'polling' }])
  })

  it('refuses new sessions with 503 shutting_down while draining', async () => {
    const server = await start()
    const holder = await PollingTestClient.connect(server.started.url)
    // The holder keeps the drain going until it has read its close.
    holder.pausePolling()
    const stopping = server.gateway.stop({ drainTimeoutMs: 3_000 })
    const refused = await post(server.started.url, 'open', {})
    expect(refused.status).toBe(503)
    expect(HttpError.parse(refused.body).error.code).toBe('shutting_down')
    holder.resumePolling()
    expect((await holder.waitClosed()).code).toBe(1001)
    await stopping
  })

  it('closes a client that stops polling with 4006 slow_consumer once its unacked frames pass the limit', async () => {
    const server = await start({ maxBufferedBytes: 64 * 1024 })
    const slow = await PollingTestClient.connect(server.started.url)
    clients.push(slow)
    await slow.subscribe('flood')
    slow.pausePolling()
    const publisher = await TestClient.connect(server.started.wsUrl)
    clients.push(publisher)
    const data = 'x'.repeat(2_000)
    for (let n = 0; n < 60; n += 1) await publisher.ok({ type: 'publish', channel: 'flood', data })
    slow.resumePolling()
    expect((await slow.waitClosed()).code).toBe(4006)
    expect(server.gateway.stats().slowConsumers).toBe(1)
  })

  it('reaps a session whose client stops polling, with 4004', async () => {
    const server = await start({ heartbeatInterval: 0.1 })
    const quiet = await PollingTestClient.connect(server.started.url)
    quiet.pausePolling()
    await expect.poll(() => server.gateway.stats().connections, { timeout: 5_000 }).toBe(0)
    quiet.resumePolling()
    const closed = await quiet.waitClosed()
    expect([4004, 1006]).toContain(closed.code)
  })

  it('ends the session on /poll/close and frees the connection', async () => {
    const server = await start()
    const client = await PollingTestClient.connect(server.started.url)
    expect(server.gateway.stats().connections).toBe(1)
    const session = client.session
    client.close()
    await client.waitClosed()
    await expect.poll(() => server.gateway.stats().connections).toBe(0)
    expect((await post(server.started.url, 'recv', { session, ack: 0 })).status).toBe(404)
  })

  it('never writes the session id to the log', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk))
        callback()
      },
    })
    const server = await start({}, { logger: pino({ level: 'debug' }, sink) })
    const client = await PollingTestClient.connect(server.started.url)
    client.send({ type: 'ping', id: 'logged-ping' })
    await client.next('pong')
    await client.subscribe('logged')
    client.close()
    await client.waitClosed()
    expect(lines.some((line) => line.includes('/poll/recv'))).toBe(true)
    expect(lines.filter((line) => line.includes(client.session))).toEqual([])
  })

  it('serves a session opened on one node through another node (no sticky sessions)', async () => {
    const network = createMemoryBusNetwork()
    const nodeA = await start({}, { bus: network.join('node_a') })
    const nodeB = await start({}, { bus: network.join('node_b') })
    const session = await openSession(nodeA.started.url)
    const throughB = PollingTestClient.attach(nodeB.started.url, session)
    clients.push(throughB)
    expect(await throughB.hello({ clientId: 'relayed' })).toMatchObject({
      type: 'welcome',
      transport: 'polling',
      node: 'node_a',
    })
    await throughB.subscribe('relay.room')
    const publisher = await TestClient.connect(nodeA.started.wsUrl)
    clients.push(publisher)
    await publisher.ok({ type: 'publish', channel: 'relay.room', data: 'via b' })
    expect(await throughB.next('channel_message')).toMatchObject({ channel: 'relay.room', data: 'via b' })
    // The connection lives on A only.
    expect(nodeA.gateway.stats().connections).toBe(2)
    expect(nodeB.gateway.stats().connections).toBe(0)
    // Unknown session on a live node, and a session of a node that does not exist: 404.
    const unknownOnA = await post(nodeB.started.url, 'recv', {
      session: 'node_a.AAAAAAAAAAAAAAAAAAAAAA',
      ack: 0,
    })
    expect(unknownOnA.status).toBe(404)
    const goneNode = await post(nodeB.started.url, 'recv', {
      session: 'node_gone.AAAAAAAAAAAAAAAAAAAAAA',
      ack: 0,
    })
    expect(goneNode.status).toBe(404)
    expect(HttpError.parse(goneNode.body).error.code).toBe('not_found')
  })
  it('answers a relayed recv with not_found once the node holding the session leaves the cluster, not after the long poll', async () => {
    // A long poll far beyond the test's timeout: only the node check can end the relayed recv in time.
    const network = createMemoryBusNetwork()
    const busA = network.join('node_a')
    const nodeA = await start({ polling: { longPollTimeout: 600 } }, { bus: busA })
    const nodeB = await start({ polling: { longPollTimeout: 600 } }, { bus: network.join('node_b') })
    const session = await openSession(nodeA.started.url)
    // Watch node B's topic for node A accepting the relayed recv.
    const probe = network.join('probe')
    const accepted = new Promise<void>((resolve) => {
      probe.subscribe(BUS_TOPICS.node('node_b'), (payload) => {
        if ((JSON.parse(payload) as { kind: string }).kind === 'poll.accepted') resolve()
      })
    })
    const recv = post(nodeB.started.url, 'recv', { session, ack: 0 })
    await accepted
    // Node A dies: it answers nothing more, and its registry entry is gone (as when its TTL ran out).
    busA.setReachable(false)
    await probe.removeEntry(BUS_GROUPS.nodes, 'node_a')
    const answer = await recv
    expect(answer.status).toBe(404)
    expect(HttpError.parse(answer.body).error).toMatchObject({ code: 'not_found' })
    expect(HttpError.parse(answer.body).error.message).toContain('left the cluster')
    await probe.close()
    busA.setReachable(true)
  })
})
