import type { HelloFrame } from '@parley/protocol'
import { describe, expect, it } from 'vitest'
import { useFixtures } from './test-support/fixtures.js'
import { nextEvent, record } from './test-support/next-event.js'
import type { ScriptedConnection } from './test-support/scripted-server.js'

const fixtures = useFixtures()
const FAST = { initialDelayMs: 20, maxDelayMs: 50 }

function welcomeFrame(sessionId: string, resumed: boolean) {
  return {
    type: 'welcome',
    protocol: 1,
    sessionId,
    connectionId: `conn-${sessionId}-${resumed}`,
    clientId: 'agent-1',
    heartbeatIntervalMs: 30_000,
    limits: { maxPayload: 65_536, maxSubscriptions: 100 },
    features: [],
    server: { name: 'scripted', version: '0.0.0' },
    resumed,
  }
}

function channelMessage(offset: number, epoch: string) {
  return {
    type: 'channel_message',
    channel: 'news',
    data: `m${offset}`,
    id: `msg-${offset}`,
    source: 'pub',
    timestamp: 1,
    offset,
    epoch,
  }
}

describe('PushClient session resume', () => {
  it('reconnects with hello.resume and, when resumed, lets the gateway restore its channels without resubscribing', async () => {
    let resumeHello: HelloFrame | undefined
    let epoch = ''
    let firstSession = ''
    const server = await fixtures.server({
      onHello(connection: ScriptedConnection, hello) {
        if (hello.resume === undefined) return false
        resumeHello = hello
        connection.clientId = 'agent-1'
        connection.send(welcomeFrame(hello.resume.sessionId, true))
        // A duplicate of what the client saw, then the missed one, then the broadcast buffered while away.
        connection.send(channelMessage(2, epoch))
        connection.send(channelMessage(3, epoch))
        connection.send({
          type: 'broadcast_message',
          data: 'while away',
          id: 'b1',
          source: 'x',
          timestamp: 1,
        })
        connection.channels.add('news')
        connection.send({
          type: 'session_resumed',
          sessionId: hello.resume.sessionId,
          subscriptions: [{ channel: 'news', offset: 3, epoch, recovered: true, replayed: 1 }],
          buffered: 1,
        })
        return true
      },
    })
    const client = fixtures.client(server.url, { clientId: 'agent-1', reconnect: FAST })
    const welcome = await client.connect()
    firstSession = welcome.sessionId
    await client.subscribe('news')
    const messages = record(client, 'channel_message')
    const broadcasts = record(client, 'broadcast_message')
    server.deliver('news', 'm1')
    server.deliver('news', 'm2')
    epoch = server.position('news').epoch
    await nextEvent(client, 'channel_message', (message) => message.offset === 2)
    const subscribed = record(client, 'subscribed')
    const resumed = nextEvent(client, 'session_resumed')
    const reconnected = nextEvent(client, 'connect')

    server.dropAll()

    expect(await resumed).toEqual({
      sessionId: firstSession,
      subscriptions: [{ channel: 'news', offset: 3, epoch, recovered: true, replayed: 1 }],
      buffered: 1,
    })
    expect((await reconnected).resumed).toBe(true)
    expect(resumeHello?.resume).toEqual({ sessionId: firstSession })
    expect(messages.map((message) => message.offset)).toEqual([1, 2, 3])
    expect(broadcasts.map((message) => message.id)).toEqual(['b1'])
    // Reported like a resubscribe, once, from the restored position.
    expect(subscribed).toEqual([
      {
        channel: 'news',
        wasRecovering: true,
        recovered: true,
        replayed: 1,
        offset: 3,
        epoch,
        durable: false,
      },
    ])
    const second = [...server.connections].find((connection) => connection.hello?.resume !== undefined)
    expect(second?.frames.some((frame) => frame.type === 'subscribe')).toBe(false)
    expect(client.positionOf('news')).toEqual({ offset: 3, epoch })
  })

  it('drops the session id and says hello without resume when the gateway answers forbidden', async () => {
    const hellos: HelloFrame[] = []
    const server = await fixtures.server({
      onHello(connection, hello) {
        hellos.push(hello)
        if (hello.resume === undefined) return false
        connection.send({ type: 'error', code: 'forbidden', message: 'not yours', retryable: false })
        return true
      },
    })
    const client = fixtures.client(server.url, { clientId: 'agent-1', reconnect: FAST })
    await client.connect()
    await client.subscribe('news')
    server.deliver('news', 'm1')
    await nextEvent(client, 'channel_message')
    const errors = record(client, 'error')
    const resubscribed = nextEvent(client, 'subscribed', (info) => info.wasRecovering)
    const reconnected = nextEvent(client, 'connect')

    server.dropAll()

    const info = await resubscribed
    expect(info).toMatchObject({ channel: 'news', recovered: true })
    expect((await reconnected).resumed).toBeUndefined()
    expect(hellos.map((hello) => hello.resume !== undefined)).toEqual([false, true, false])
    expect(errors).toEqual([])
  })

  it('resubscribes from its own position when the restored stream skips messages it never received', async () => {
    let epoch = ''
    const server = await fixtures.server({
      onHello(connection, hello) {
        if (hello.resume === undefined) return false
        connection.clientId = 'agent-1'
        connection.send(welcomeFrame(hello.resume.sessionId, true))
        // The gateway believes offset 3 arrived; it did not. Offset 4 comes live.
        connection.send(channelMessage(4, epoch))
        connection.send({
          type: 'session_resumed',
          sessionId: hello.resume.sessionId,
          subscriptions: [{ channel: 'news', offset: 4, epoch, recovered: true, replayed: 0 }],
          buffered: 0,
        })
        return true
      },
    })
    const client = fixtures.client(server.url, { clientId: 'agent-1', reconnect: FAST })
    await client.connect()
    await client.subscribe('news')
    const messages = record(client, 'channel_message')
    server.deliver('news', 'm1')
    server.deliver('news', 'm2')
    await nextEvent(client, 'channel_message', (message) => message.offset === 2)
    // Published while the link was failing: stored on the server, never received.
    for (const connection of server.connections) connection.channels.delete('news')
    server.deliver('news', 'm3')
    server.deliver('news', 'm4')
    epoch = server.position('news').epoch
    messages.splice(0)
    const resubscribed = nextEvent(client, 'subscribed', (info) => info.wasRecovering)

    server.dropAll()

    expect(await resubscribed).toMatchObject({ channel: 'news', recovered: true, replayed: 2 })
    expect(messages.map((message) => message.offset)).toEqual([3, 4])
  })
})
