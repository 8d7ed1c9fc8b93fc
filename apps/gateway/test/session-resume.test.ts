import { afterEach, describe, expect, it } from 'vitest'
import { recordEvents, until } from './support/client-events.js'
import { proxiedGateway } from './support/proxied-gateway.js'
import { TestClient } from './support/test-client.js'

const SCOPES = ['publish:*', 'subscribe:*', 'send:*']

describe('session resume', () => {
  const gateway = proxiedGateway()
  const { start, cutAndWait } = gateway
  const client = gateway.client
  const track = gateway.track

  async function token(name: string): Promise<{ token: string; principal: string }> {
    const created = await gateway.server.tokens.create({ name, role: 'agent', scopes: SCOPES }, Date.now())
    return { token: created.token, principal: created.record.id }
  }

  afterEach(() => gateway.dispose())

  it('resumes a session within reconnectTimeout: same id, missed channel messages and buffered frames once each', async () => {
    // Presence frames go out as they happen, so carol's join is buffered while the subscriber is away (held
    // frames go to whoever is subscribed when they are released: the fan-out's own tests cover that).
    const { server: running, proxy: link } = await start({ presence: { broadcastInterval: 0 } })
    const subscriberCredentials = await token('subscriber')
    const publisherCredentials = await token('publisher')
    const subscriber = client(link.wsUrl, 'sub', subscriberCredentials.token)
    const publisher = client(running.started.wsUrl, 'pub', publisherCredentials.token)
    const first = await subscriber.connect()
    await publisher.connect()
    await subscriber.subscribe('news')
    const messages = recordEvents(subscriber, 'channel_message')
    const broadcasts = recordEvents(subscriber, 'broadcast_message')
    const directs = recordEvents(subscriber, 'direct_message')
    const presence = recordEvents(subscriber, 'presence')
    const resumed = recordEvents(subscriber, 'session_resumed')
    const connects = recordEvents(subscriber, 'connect')
    await publisher.publish('news', 1)
    await messages.waitFor((message) => message.data === 1)
    const subscribed = recordEvents(subscriber, 'subscribed')

    link.hold()
    await cutAndWait(1)
    for (const data of [2, 3, 4]) await publisher.publish('news', data)
    await publisher.broadcast('to everyone')
    const carol = client(running.started.wsUrl, 'carol', publisherCredentials.token)
    await carol.connect()
    await carol.subscribe('news')
    await publisher.send('sub', { direct: true })
    link.release()

    const info = await resumed.waitFor(() => true)
    const welcome = await connects.waitFor(() => true)
    expect(welcome.resumed).toBe(true)
    expect(welcome.sessionId).toBe(first.sessionId)
    expect(info).toEqual({
      sessionId: first.sessionId,
      subscriptions: [
        { channel: 'news', offset: 4, epoch: expect.any(String), recovered: true, replayed: 3 },
      ],
      // The broadcast and carol's join were buffered; the direct message waits in the delivery store.
      buffered: 2,
    })
    await directs.waitFor(() => true)
    await presence.waitFor((event) => event.client.clientId === 'carol' && event.event === 'join')
    // Live again: the next publication arrives once.
    await publisher.publish('news', 5)
    await messages.waitFor((message) => message.data === 5)

    expect(messages.items.map((message) => message.data)).toEqual([1, 2, 3, 4, 5])
    expect(broadcasts.items.map((message) => message.data)).toEqual(['to everyone'])
    expect(directs.items.map((message) => message.data)).toEqual([{ direct: true }])
    expect(presence.items.filter((event) => event.client.clientId === 'carol')).toHaveLength(1)
    // The gateway restored the channel and the client did not subscribe again: one report, the restored one.
    expect(subscribed.items).toEqual([
      {
        channel: 'news',
        wasRecovering: true,
        recovered: true,
        replayed: 3,
        offset: 4,
        epoch: info.subscriptions[0]?.epoch,
        durable: false,
      },
    ])
  })

  it('refuses a session id presented by another principal with forbidden, and the handshake can go on', async () => {
    const { server: running } = await start()
    const owner = await token('owner')
    const intruder = await token('intruder')
    const ana = client(running.started.wsUrl, 'ana', owner.token)
    const { sessionId } = await ana.connect()
    await ana.close()
    await until(() => running.gateway.stats().connections === 0, 10_000, 'ana gone')

    const socket = await TestClient.open(running.started.wsUrl)
    track(socket)
    socket.send({
      type: 'hello',
      id: 'h1',
      protocol: { min: 1, max: 1 },
      auth: { token: intruder.token },
      resume: { sessionId },
    })
    const refused = await socket.waitFor((frame) => frame.type === 'error' && frame.id === 'h1')
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden' })
    const rows = await running.audit?.query({ limit: 50, kind: 'auth_failure' })
    expect(
      rows?.events.some((row) => row.detail?.includes(intruder.principal) && row.outcome === 'denied'),
    ).toBe(true)

    // Still in the handshake: a plain hello is welcomed with a session of its own.
    socket.send({ type: 'hello', id: 'h2', protocol: { min: 1, max: 1 }, auth: { token: intruder.token } })
    const welcome = await socket.waitFor((frame) => frame.type === 'welcome' && frame.id === 'h2')
    expect(welcome).toMatchObject({ type: 'welcome' })
    expect((welcome as { sessionId: string }).sessionId).not.toBe(sessionId)
    expect((welcome as { resumed?: boolean }).resumed).toBeUndefined()

    // The owner can still resume it.
    const back = await TestClient.open(running.started.wsUrl)
    track(back)
    back.send({
      type: 'hello',
      id: 'h3',
      protocol: { min: 1, max: 1 },
      clientId: 'ana',
      auth: { token: owner.token },
      resume: { sessionId },
    })
    const resumed = await back.waitFor((frame) => frame.type === 'welcome' && frame.id === 'h3')
    expect(resumed).toMatchObject({ sessionId, resumed: true })
    await back.waitFor((frame) => frame.type === 'session_resumed')
  })

  it('opens a fresh session when the session was idle longer than session.timeout', async () => {
    const { server: running, proxy: link } = await start({ session: { timeout: 1 } })
    const credentials = await token('subscriber')
    const subscriber = client(link.wsUrl, 'sub', credentials.token)
    const first = await subscriber.connect()
    await subscriber.subscribe('news')
    const idleSince = Date.now()
    const connects = recordEvents(subscriber, 'connect')
    const subscribed = recordEvents(subscriber, 'subscribed')
    // Idle (heartbeats do not count as activity) past session.timeout.
    await until(() => Date.now() - idleSince > 1_300, 5_000, 'session.timeout passing')

    link.hold()
    await cutAndWait(0)
    link.release()

    const welcome = await connects.waitFor(() => true)
    expect(welcome.resumed).toBe(false)
    expect(welcome.sessionId).not.toBe(first.sessionId)
    // Not restored by the gateway: the client subscribed again from its position.
    expect(await subscribed.waitFor((info) => info.channel === 'news')).toMatchObject({ wasRecovering: true })
    expect(running.gateway.stats().connections).toBe(1)
  })

  it('opens a fresh session when more than session.maxMessages frames were buffered while away', async () => {
    const { server: running, proxy: link } = await start({ session: { maxMessages: 2 } })
    const credentials = await token('subscriber')
    const subscriber = client(link.wsUrl, 'sub', credentials.token)
    const publisher = client(running.started.wsUrl, 'pub', credentials.token)
    const first = await subscriber.connect()
    await publisher.connect()
    await subscriber.subscribe('news')
    const connects = recordEvents(subscriber, 'connect')
    const messages = recordEvents(subscriber, 'channel_message')
    const subscribed = recordEvents(subscriber, 'subscribed')

    link.hold()
    await cutAndWait(1)
    for (const round of [1, 2, 3]) await publisher.broadcast(round)
    await publisher.publish('news', 'missed')
    link.release()

    const welcome = await connects.waitFor(() => true)
    expect(welcome.resumed).toBe(false)
    expect(welcome.sessionId).not.toBe(first.sessionId)
    // Channel messages still come back, through the client's own resubscribe from its position.
    expect(await subscribed.waitFor((info) => info.channel === 'news')).toMatchObject({
      wasRecovering: true,
      recovered: true,
      replayed: 1,
    })
    expect(messages.items.map((message) => message.data)).toEqual(['missed'])
  })

  it('opens a fresh session after reconnectTimeout', async () => {
    const { proxy: link } = await start({ reconnectTimeout: 0.3 })
    const credentials = await token('subscriber')
    const subscriber = client(link.wsUrl, 'sub', credentials.token)
    const first = await subscriber.connect()
    const connects = recordEvents(subscriber, 'connect')

    link.hold()
    await cutAndWait(0)
    const cutAt = Date.now()
    await until(() => Date.now() - cutAt > 600, 5_000, 'reconnectTimeout passing')
    link.release()

    const welcome = await connects.waitFor(() => true)
    expect(welcome.resumed).toBe(false)
    expect(welcome.sessionId).not.toBe(first.sessionId)
  })
})
