import { afterEach, describe, expect, it } from 'vitest'
import type { GatewayConfigInput } from '../src/config.js'
import { recordEvents, until } from './support/client-events.js'
import { proxiedGateway } from './support/proxied-gateway.js'
import { TestClient } from './support/test-client.js'
import type { TestGateway } from './support/test-gateway.js'

const ROOM = 'room.7'

/** `presence.leaveDelay`: a connection lost without a close keeps its client on its channels for a while. */
describe('presence leave delay', () => {
  const gateway = proxiedGateway()
  const { cutAndWait, track } = gateway
  const client = gateway.client

  function start(presence: NonNullable<GatewayConfigInput['presence']>) {
    // Frames go out as they happen, so a leave sent at the cut reaches the watcher before anything later.
    return gateway.start({ allowAnonymous: true, presence: { broadcastInterval: 0, ...presence } })
  }

  /** A watcher on the room straight to the gateway, recording presence and the room's messages. */
  async function watch(running: TestGateway) {
    const watcher = client(running.started.wsUrl, 'watcher')
    await watcher.connect()
    const presence = recordEvents(watcher, 'presence')
    const messages = recordEvents(watcher, 'channel_message')
    await watcher.subscribe(ROOM)
    const eventsOf = (clientId: string) =>
      presence.items.filter((event) => event.client.clientId === clientId).map((event) => event.event)
    return { watcher, presence, messages, eventsOf }
  }

  afterEach(() => gateway.dispose())

  it('keeps a client whose connection was cut on its channels: back within leaveDelay, nobody sees it leave or join again', async () => {
    const { server: running, proxy: link } = await start({ leaveDelay: 600 })
    const { watcher, presence, messages, eventsOf } = await watch(running)
    const mover = client(link.wsUrl, 'mover')
    await mover.connect()
    await mover.subscribe(ROOM)
    await presence.waitFor((event) => event.client.clientId === 'mover' && event.event === 'join')

    link.hold()
    await cutAndWait(1)
    // Away, with no connection: still present on the room, as a client with no connection.
    const listed = await watcher.getPresence(ROOM)
    expect(listed.clients.find((entry) => entry.clientId === 'mover')).toMatchObject({ connections: 0 })

    const resumed = recordEvents(mover, 'session_resumed')
    link.release()
    await resumed.waitFor(() => true)
    const moverConnections = async () =>
      (await watcher.getPresence(ROOM)).clients.find((entry) => entry.clientId === 'mover')?.connections
    await until(async () => (await moverConnections()) === 1, 10_000, 'the mover holding the room again')
    // A publication on the room is written after any presence frame sent before it: none was.
    await watcher.publish(ROOM, 'after')
    await messages.waitFor((message) => message.data === 'after')
    expect(eventsOf('mover')).toEqual(['join'])
  })

  it('leaves a channel leaveDelay after the cut when the client is not back on it, and not before', async () => {
    const leaveDelayS = 0.4
    const { server: running, proxy: link } = await start({ leaveDelay: leaveDelayS })
    const { presence, eventsOf } = await watch(running)
    const ghost = track(await TestClient.connect(link.wsUrl, { clientId: 'ghost' }))
    await ghost.subscribe(ROOM)
    await presence.waitFor((event) => event.client.clientId === 'ghost' && event.event === 'join')

    link.hold()
    const cutAt = Date.now()
    await cutAndWait(1)
    await presence.waitFor((event) => event.client.clientId === 'ghost' && event.event === 'leave', 10_000)
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(leaveDelayS * 1000 - 50)
    expect(eventsOf('ghost')).toEqual(['join', 'leave'])
  })

  it('leaves a channel the client reconnected without subscribing to again once leaveDelay ends', async () => {
    const leaveDelayS = 0.3
    const { server: running, proxy: link } = await start({ leaveDelay: leaveDelayS })
    const { presence, eventsOf } = await watch(running)
    const first = track(await TestClient.connect(link.wsUrl, { clientId: 'fickle' }))
    await first.subscribe(ROOM)
    await presence.waitFor((event) => event.client.clientId === 'fickle' && event.event === 'join')
    const cutAt = Date.now()
    await cutAndWait(1)

    // Back straight away on a new connection, on another channel only.
    const second = track(await TestClient.connect(running.started.wsUrl, { clientId: 'fickle' }))
    await second.subscribe('elsewhere')
    await presence.waitFor((event) => event.client.clientId === 'fickle' && event.event === 'leave', 10_000)
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(leaveDelayS * 1000 - 50)
    expect(eventsOf('fickle')).toEqual(['join', 'leave'])
  })

  it('leaves at once on a cut with leaveDelay 0', async () => {
    const { server: running, proxy: link } = await start({ leaveDelay: 0 })
    const { presence, eventsOf } = await watch(running)
    const cutOne = track(await TestClient.connect(link.wsUrl, { clientId: 'cut-one' }))
    await cutOne.subscribe(ROOM)
    await presence.waitFor((event) => event.client.clientId === 'cut-one' && event.event === 'join')
    link.hold()
    await cutAndWait(1)
    await presence.waitFor((event) => event.client.clientId === 'cut-one' && event.event === 'leave', 10_000)
    expect(eventsOf('cut-one')).toEqual(['join', 'leave'])
  })

  it('leaves at once on a clean close, whatever the delay', async () => {
    const { server: running } = await start({ leaveDelay: 600 })
    const { presence, eventsOf } = await watch(running)
    const closer = client(running.started.wsUrl, 'closer')
    await closer.connect()
    await closer.subscribe(ROOM)
    await presence.waitFor((event) => event.client.clientId === 'closer' && event.event === 'join')
    await closer.close()
    await presence.waitFor((event) => event.client.clientId === 'closer' && event.event === 'leave', 10_000)
    expect(eventsOf('closer')).toEqual(['join', 'leave'])
  })
})
