import { BroadcastResult, PublishResult } from '@parley/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

describe('channels and broadcast', () => {
  let server: TestGateway
  const clients: TestClient[] = []
  const connect = async (clientId?: string) => {
    const client = await TestClient.connect(server.started.wsUrl, clientId === undefined ? {} : { clientId })
    clients.push(client)
    return client
  }

  beforeEach(async () => {
    server = await startTestGateway()
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server.dispose()
  })

  it('two clients exchange a message through a channel', async () => {
    const alice = await connect('alice')
    const bob = await connect('bob')
    await bob.subscribe('team.chat')

    const answer = await alice.request({ type: 'publish', channel: 'team.chat', data: { text: 'hi bob' } })
    expect(answer.type).toBe('reply')
    const result = PublishResult.parse(answer.type === 'reply' ? answer.result : undefined)
    expect(result).toMatchObject({ channel: 'team.chat', delivered: 1 })

    const message = await bob.next('channel_message')
    expect(message).toEqual({
      type: 'channel_message',
      channel: 'team.chat',
      data: { text: 'hi bob' },
      id: result.id,
      source: 'alice',
      timestamp: result.timestamp,
      offset: result.offset,
      epoch: result.epoch,
    })
    expect(result.offset).toBe(1)

    await alice.subscribe('team.chat')
    await bob.request({ type: 'publish', channel: 'team.chat', data: 'hi alice' })
    expect(await alice.next('channel_message')).toMatchObject({ data: 'hi alice', source: 'bob' })
  })

  it('counts only subscribers reached and stops delivering after unsubscribe (idempotently)', async () => {
    const publisher = await connect()
    const subscriber = await connect()
    await subscriber.subscribe('news')
    await subscriber.subscribe('news')

    const first = await publisher.request({ type: 'publish', channel: 'news', data: 1 })
    expect(first.type === 'reply' && first.result.delivered).toBe(1)

    for (let i = 0; i < 2; i++) {
      const answer = await subscriber.request({ type: 'unsubscribe', channel: 'news' })
      expect(answer).toMatchObject({ type: 'reply', result: { channel: 'news' } })
    }
    const second = await publisher.request({ type: 'publish', channel: 'news', data: 2 })
    expect(second.type === 'reply' && second.result.delivered).toBe(0)
    expect(subscriber.frames.filter((frame) => frame.type === 'channel_message')).toHaveLength(1)
  })

  it('broadcast reaches every connected client, the sender included', async () => {
    const sender = await connect('ops')
    const others = [await connect(), await connect()]
    const answer = await sender.request({ type: 'broadcast', data: { notice: 'maintenance' } })
    expect(answer.type).toBe('reply')
    const result = BroadcastResult.parse(answer.type === 'reply' ? answer.result : undefined)
    expect(result.delivered).toBe(3)
    for (const client of [sender, ...others]) {
      expect(await client.next('broadcast_message')).toMatchObject({
        data: { notice: 'maintenance' },
        id: result.id,
        source: 'ops',
      })
    }
  })

  it('passes SQL and HTML in data and client ids through literally', async () => {
    const sqlishId = 'x--drop:table@audit_events'
    const hostileData = { sql: "'; DROP TABLE audit_events; --", html: '<script>alert("x")</script>&amp;' }
    const publisher = await connect(sqlishId)
    const subscriber = await connect()
    await subscriber.subscribe('sql.html')
    await publisher.request({ type: 'publish', channel: 'sql.html', data: hostileData })
    expect(await subscriber.next('channel_message')).toMatchObject({ data: hostileData, source: sqlishId })
    const page = await server.audit?.query({ limit: 50 })
    expect(page?.events.some((event) => event.clientId === sqlishId && event.kind === 'publish')).toBe(true)
  })

  it('refuses a client id with quotes or markup as an invalid hello, and the socket stays usable', async () => {
    const client = await TestClient.open(server.started.wsUrl)
    clients.push(client)
    const refused = await client.hello({ clientId: "<b>x'); DROP TABLE audit_events;--" })
    expect(refused).toMatchObject({
      type: 'error',
      code: 'invalid_frame',
      message: expect.stringContaining('clientId'),
    })
    expect(await client.hello({ clientId: 'plain' })).toMatchObject({ type: 'welcome', clientId: 'plain' })
  })

  it('answers a client ping with a pong carrying its id and ts', async () => {
    const client = await connect()
    client.send({ type: 'ping', id: 'p1', ts: 42 })
    expect(await client.next('pong')).toEqual({ type: 'pong', id: 'p1', ts: 42 })
  })

  it('assigns a client id when hello has none and reports the limits in welcome', async () => {
    const client = await TestClient.open(server.started.wsUrl)
    clients.push(client)
    const welcome = await client.hello()
    expect(welcome).toMatchObject({
      type: 'welcome',
      protocol: 1,
      clientId: expect.stringMatching(/^client_/),
      sessionId: expect.stringMatching(/^ses_/),
      connectionId: expect.stringMatching(/^con_/),
      limits: { maxPayload: 1024 * 1024, maxSubscriptions: 1000 },
      server: { name: 'parley' },
    })
  })
})
