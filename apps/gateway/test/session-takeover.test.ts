import { PushClient } from '@parley/client'
import { PROTOCOL_VERSION } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { GatewayConfigInput } from '../src/config.js'
import { startTcpProxy, type TcpProxy } from './acceptance/support/tcp-proxy.js'
import { recordEvents, until } from './support/client-events.js'
import { type FrameOf, TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

const SCOPES = ['publish:*', 'subscribe:*', 'send:*']

/**
 * Connections the network dropped without a close (mobile networks, NAT): the gateway reaps them, or a
 * resume arrives before it noticed. Either way the session is there to resume, with everything it had.
 */
describe('session resume after a silent drop', () => {
  let server: TestGateway | undefined
  let proxy: TcpProxy | undefined
  const clients: TestClient[] = []
  const sdkClients: PushClient[] = []

  async function start(config: GatewayConfigInput = {}) {
    server = await startTestGateway(config)
    proxy = await startTcpProxy(server.started.port)
    return { server, proxy }
  }

  async function token(name: string): Promise<string> {
    const created = await (server as TestGateway).tokens.create(
      { name, role: 'agent', scopes: SCOPES },
      Date.now(),
    )
    return created.token
  }

  /** A raw client that answers the gateway's pings, as any live client does. */
  async function open(url: string): Promise<TestClient> {
    const client = await TestClient.open(url)
    clients.push(client)
    client.onFrame((frame) => {
      if (frame.type === 'ping') client.send({ type: 'pong', ts: (frame as FrameOf<'ping'>).ts })
    })
    return client
  }

  async function hello(
    client: TestClient,
    options: { id: string; clientId: string; token: string; resume?: string },
  ): Promise<FrameOf<'welcome'> | FrameOf<'error'>> {
    client.send({
      type: 'hello',
      id: options.id,
      protocol: { min: 1, max: PROTOCOL_VERSION },
      clientId: options.clientId,
      auth: { token: options.token },
      ...(options.resume === undefined ? {} : { resume: { sessionId: options.resume } }),
    })
    return client.waitFor(
      (frame): frame is FrameOf<'welcome'> | FrameOf<'error'> =>
        (frame.type === 'welcome' || frame.type === 'error') && 'id' in frame && frame.id === options.id,
    )
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await Promise.all(sdkClients.splice(0).map((client) => client.close()))
    await proxy?.close()
    await server?.dispose()
    server = undefined
    proxy = undefined
  })

  it('keeps the session of a connection reaped by the heartbeat resumable, with what was published since', async () => {
    const { server: running, proxy: link } = await start({ heartbeatInterval: 0.5 })
    const credentials = await token('mobile')
    const phone = await open(link.wsUrl)
    const first = await hello(phone, { id: 'h1', clientId: 'phone', token: credentials })
    expect(first.type).toBe('welcome')
    const sessionId = (first as FrameOf<'welcome'>).sessionId
    await phone.subscribe('news')

    // The network drops the flow: the gateway hears nothing more and its close never arrives.
    link.blackhole()
    await until(
      () => running.gateway.stats().reaped === 1,
      15_000,
      'the heartbeat reaping the silent connection',
    )

    const publisher = await open(running.started.wsUrl)
    expect((await hello(publisher, { id: 'p1', clientId: 'publisher', token: credentials })).type).toBe(
      'welcome',
    )
    expect(await publisher.ok({ type: 'publish', channel: 'news', data: 'while away' })).toMatchObject({
      delivered: 0,
    })

    const back = await open(running.started.wsUrl)
    const welcome = await hello(back, { id: 'h2', clientId: 'phone', token: credentials, resume: sessionId })
    expect(welcome).toMatchObject({ type: 'welcome', sessionId, resumed: true })
    expect(await back.next('session_resumed')).toMatchObject({
      sessionId,
      subscriptions: [{ channel: 'news', recovered: true, replayed: 1 }],
    })
    expect(back.framesOf('channel_message').map((frame) => frame.data)).toEqual(['while away'])
    // The reaped connection is gone without waiting for its closing handshake: the publisher and the phone.
    expect(running.gateway.stats().connections).toBe(2)
  })

  it('takes a session over from a connection of the same principal that is still attached, with its subscriptions and pending deliveries', async () => {
    const { server: running } = await start({ delivery: { storeBackend: 'memory', ackTimeout: 120 } })
    const credentials = await token('laptop')
    // The old connection is live as far as the gateway knows (its socket not yet seen dead).
    const old = await open(running.started.wsUrl)
    const first = await hello(old, { id: 'h1', clientId: 'laptop', token: credentials })
    const sessionId = (first as FrameOf<'welcome'>).sessionId
    await old.subscribe('news')
    const sender = await open(running.started.wsUrl)
    await hello(sender, { id: 's1', clientId: 'sender', token: credentials })
    const sent = (await sender.ok({ type: 'send', to: 'laptop', data: { job: 1 } })) as { deliveryId: string }
    // Delivered to the old connection and never acknowledged: in flight when the takeover comes.
    expect(await old.next('direct_message')).toMatchObject({ deliveryId: sent.deliveryId, attempt: 1 })

    const fresh = await open(running.started.wsUrl)
    const welcome = await hello(fresh, {
      id: 'h2',
      clientId: 'laptop',
      token: credentials,
      resume: sessionId,
    })
    expect(welcome).toMatchObject({ type: 'welcome', sessionId, resumed: true })
    expect(await old.waitClosed()).toMatchObject({ code: 4011 })
    expect(await fresh.next('session_resumed')).toMatchObject({
      sessionId,
      subscriptions: [{ channel: 'news', recovered: true }],
    })
    // The delivery the old connection had in flight comes to the new one, well before its ack timeout.
    expect(await fresh.next('direct_message')).toMatchObject({
      deliveryId: sent.deliveryId,
      data: { job: 1 },
    })
    expect(await fresh.ok({ type: 'ack', deliveryIds: [sent.deliveryId] })).toEqual({ settled: 1 })
    // And the restored subscription is live on the new connection.
    await sender.ok({ type: 'publish', channel: 'news', data: 'live' })
    expect(await fresh.next('channel_message')).toMatchObject({ channel: 'news', data: 'live' })
    expect(running.gateway.stats().connections).toBe(2)
  })

  it('resumes every time when the SDK reconnects through a proxy that was cut silently, after a first resume', async () => {
    const { server: running, proxy: link } = await start({ heartbeatInterval: 0.5 })
    const credentials = await token('roaming')
    const roaming = new PushClient(link.wsUrl, {
      clientId: 'roaming',
      authToken: credentials,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    })
    sdkClients.push(roaming)
    const connects = recordEvents(roaming, 'connect')
    const first = await roaming.connect()
    await roaming.subscribe('news')

    // A reset the gateway sees: resumed as before.
    link.cut()
    const second = await connects.waitFor((info) => info.connectionId !== first.connectionId)
    expect(second).toMatchObject({ sessionId: first.sessionId, resumed: true })

    // Then a silent drop: the SDK notices after 2.5 heartbeat intervals, the gateway reaps after 2 to 2.5;
    // whichever comes first, the session is there.
    link.blackhole()
    const third = await connects.waitFor(
      (info) => info.connectionId !== first.connectionId && info.connectionId !== second.connectionId,
      15_000,
    )
    expect(third).toMatchObject({ sessionId: first.sessionId, resumed: true })
    const received = recordEvents(roaming, 'channel_message')
    const publisher = await open(running.started.wsUrl)
    await hello(publisher, { id: 'p1', clientId: 'publisher', token: credentials })
    await publisher.ok({ type: 'publish', channel: 'news', data: 'after the drop' })
    expect(await received.waitFor(() => true)).toMatchObject({ channel: 'news', data: 'after the drop' })
  })

  it('refuses another principal presenting the id of a live session and leaves its connection alone', async () => {
    const { server: running } = await start()
    const owner = await open(running.started.wsUrl)
    const first = await hello(owner, { id: 'h1', clientId: 'owner', token: await token('owner') })
    const sessionId = (first as FrameOf<'welcome'>).sessionId
    await owner.subscribe('news')

    const intruder = await open(running.started.wsUrl)
    const refused = await hello(intruder, {
      id: 'h2',
      clientId: 'owner',
      token: await token('intruder'),
      resume: sessionId,
    })
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden' })
    expect(owner.readyState).toBe(owner.socket.OPEN)
    expect(await owner.ok({ type: 'publish', channel: 'news', data: 'still mine' })).toMatchObject({
      delivered: 1,
    })
  })
})
