import { PushClient } from '@parley/client'
import { AdminPresenceList } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { GatewayConfigInput } from '../src/config.js'
import { recordEvents, until } from './support/client-events.js'
import { TestClient } from './support/test-client.js'
import { adminHeaders, startTestGateway, type TestGateway } from './support/test-gateway.js'

const FAST_RECONNECT = { initialDelayMs: 50, maxDelayMs: 250 }

describe('presence', () => {
  let server: TestGateway | undefined
  const clients: PushClient[] = []
  const raw: TestClient[] = []

  async function start(config: GatewayConfigInput = {}) {
    server = await startTestGateway({ allowAnonymous: true, ...config })
    return server
  }

  function client(clientId: string, authToken?: string): PushClient {
    const created = new PushClient(server?.started.wsUrl ?? '', {
      clientId,
      reconnect: FAST_RECONNECT,
      ...(authToken === undefined ? {} : { authToken }),
    })
    clients.push(created)
    return created
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((created) => created.close()))
    for (const socket of raw.splice(0)) socket.close()
    await server?.dispose()
    server = undefined
  })

  it('sends join, update (setStatus) and leave of a client to the subscribers of its channel', async () => {
    await start()
    const ana = client('ana')
    const bob = client('bob')
    await Promise.all([ana.connect(), bob.connect()])
    const seen = recordEvents(ana, 'presence')
    await ana.subscribe('room.42')

    await bob.subscribe('room.42')
    const join = await seen.waitFor((event) => event.client.clientId === 'bob' && event.event === 'join')
    expect(join).toMatchObject({
      channel: 'room.42',
      client: { clientId: 'bob', status: 'online', metadata: {}, connections: 1 },
    })

    const receipt = await bob.setStatus('busy', { task: 'summarising' })
    expect(receipt).toEqual({ status: 'busy', metadata: { task: 'summarising' } })
    const update = await seen.waitFor((event) => event.client.clientId === 'bob' && event.event === 'update')
    expect(update).toMatchObject({
      channel: 'room.42',
      client: { clientId: 'bob', status: 'busy', metadata: { task: 'summarising' } },
    })

    await bob.unsubscribe('room.42')
    await seen.waitFor((event) => event.client.clientId === 'bob' && event.event === 'leave')

    await bob.subscribe('room.42')
    await seen.waitFor((event) => event.client.clientId === 'bob' && event.event === 'join' && event !== join)
    await bob.close()
    const leaves = () =>
      seen.items.filter((event) => event.client.clientId === 'bob' && event.event === 'leave')
    await seen.waitFor((event) => event.event === 'leave' && leaves().length === 2)
    expect(seen.items.filter((event) => event.client.clientId === 'bob').map((event) => event.event)).toEqual(
      ['join', 'update', 'leave', 'join', 'leave'],
    )
  })

  it('delivers every join of a burst to each subscriber once, in the order the clients joined', async () => {
    await start()
    const names = Array.from({ length: 12 }, (_, index) => `c${String(index).padStart(2, '0')}`)
    const joining = names.map((name) => client(name))
    await Promise.all(joining.map((each) => each.connect()))
    const logs = joining.map((each) => recordEvents(each, 'presence'))
    for (const each of joining) await each.subscribe('room.burst')
    const last = names.at(-1)
    await Promise.all(logs.map((log) => log.waitFor((event) => event.client.clientId === last)))

    logs.forEach((log, index) => {
      const joins = log.items.filter((event) => event.event === 'join').map((event) => event.client.clientId)
      // Its own join and every later one; held frames may add joins from just before it subscribed. Never one
      // twice, never out of order.
      expect(joins).toEqual(names.slice(names.indexOf(joins[0] ?? '')))
      expect(joins).toEqual(expect.arrayContaining(names.slice(index)))
    })
  })

  it('getPresence lists each client with its status, metadata, lastSeen and connections, per channel or all', async () => {
    await start()
    const ana = client('ana')
    const bob = client('bob')
    await Promise.all([ana.connect(), bob.connect()])
    await bob.subscribe('room.42')
    await bob.setStatus('away', { back: 'soon' })
    const before = Date.now()
    const emitted = recordEvents(ana, 'presence_list')

    const inRoom = await ana.getPresence('room.42')

    expect(inRoom.channel).toBe('room.42')
    expect(inRoom.clients).toHaveLength(1)
    const [entry] = inRoom.clients
    expect(entry).toMatchObject({
      clientId: 'bob',
      status: 'away',
      metadata: { back: 'soon' },
      connections: 1,
    })
    expect(entry?.lastSeen).toBeGreaterThan(before - 10_000)
    expect(entry?.lastSeen).toBeLessThanOrEqual(Date.now())
    expect(emitted.items).toEqual([inRoom])

    const everyone = await ana.getPresence()
    expect(everyone.clients.map((listed) => listed.clientId).sort()).toEqual(['ana', 'bob'])
    expect(everyone.clients.find((listed) => listed.clientId === 'ana')).toMatchObject({ status: 'online' })
  })

  it('aggregates a principal over its clients and connections (status of the most recently active one)', async () => {
    const running = await start({ allowAnonymous: false })
    const { token, record } = await running.tokens.create(
      { name: 'workers', role: 'agent', scopes: ['subscribe:*'] },
      Date.now(),
    )
    const first = client('worker-1', token)
    const second = client('worker-1', token)
    const third = client('worker-2', token)
    const other = await running.tokens.create(
      { name: 'watcher', role: 'agent', scopes: ['subscribe:*'] },
      Date.now(),
    )
    const watcher = client('watcher', other.token)
    await Promise.all([first.connect(), second.connect(), third.connect(), watcher.connect()])
    const seen = recordEvents(watcher, 'presence')
    await watcher.subscribe('jobs')
    await first.subscribe('jobs')
    await second.subscribe('jobs')
    await seen.waitFor((event) => event.client.clientId === 'worker-1' && event.event === 'join')
    // Strictly later than worker-1's last frame, so worker-2 is the most recently active client.
    const subscribedAt = Date.now()
    await until(() => Date.now() > subscribedAt + 2, 1_000, 'the clock moving on')
    await third.setStatus('busy')

    const list = await watcher.getPresence()

    const principal = list.principals.find((entry) => entry.principal === record.id)
    expect(principal).toMatchObject({ status: 'busy', connections: 3 })
    expect(principal?.clients.sort()).toEqual(['worker-1', 'worker-2'])
    expect(list.principals.find((entry) => entry.principal === other.record.id)).toMatchObject({
      status: 'online',
      clients: ['watcher'],
      connections: 1,
    })
    expect(list.clients.find((entry) => entry.clientId === 'worker-1')).toMatchObject({ connections: 2 })

    // Joined once with its first connection on the channel, leaves only with its last one.
    await first.close()
    const afterFirst = await watcher.getPresence('jobs')
    expect(afterFirst.clients.find((entry) => entry.clientId === 'worker-1')).toMatchObject({
      connections: 1,
    })
    await second.close()
    await seen.waitFor((event) => event.client.clientId === 'worker-1' && event.event === 'leave')
    const worker1 = seen.items
      .filter((event) => event.client.clientId === 'worker-1')
      .map((event) => event.event)
    expect(worker1).toEqual(['join', 'leave'])
  })

  it('presence_get for a channel needs the subscribe scope on it', async () => {
    const running = await start({ allowAnonymous: false })
    const { token } = await running.tokens.create(
      { name: 'narrow', role: 'client', scopes: ['subscribe:lobby'] },
      Date.now(),
    )
    const narrow = client('narrow', token)
    await narrow.connect()
    await expect(narrow.getPresence('room.42')).rejects.toMatchObject({ code: 'forbidden' })
    await expect(narrow.getPresence('lobby')).resolves.toMatchObject({ channel: 'lobby' })
  })

  it('lists every online client and principal at GET /api/admin/presence', async () => {
    const running = await start()
    const ana = client('ana')
    await ana.connect()
    await ana.subscribe('room.42')
    await ana.setStatus('busy', { task: 'x' })

    const response = await fetch(`${running.started.url}/api/admin/presence`, { headers: adminHeaders() })
    expect(response.status).toBe(200)
    const body = AdminPresenceList.parse(await response.json())
    expect(body.clients).toHaveLength(1)
    expect(body.clients[0]).toMatchObject({
      clientId: 'ana',
      status: 'busy',
      metadata: { task: 'x' },
      connections: 1,
      channels: ['room.42'],
    })
    expect(body.clients[0]?.nodes).toHaveLength(1)
    expect(body.principals).toHaveLength(1)

    const anonymous = await fetch(`${running.started.url}/api/admin/presence`)
    expect(anonymous.status).toBe(401)
  })

  it('sends the presence changes it holds for a channel with the channel’s next publication, ahead of it', async () => {
    // An interval far longer than the test: a held change that arrives at all came with the publication.
    await start({ presence: { broadcastInterval: 600 } })
    const watcher = await TestClient.connect(server?.started.wsUrl ?? '', { clientId: 'watcher' })
    const first = await TestClient.connect(server?.started.wsUrl ?? '', { clientId: 'first' })
    const second = await TestClient.connect(server?.started.wsUrl ?? '', { clientId: 'second' })
    raw.push(watcher, first, second)
    // The watcher's own join goes at once (a quiet channel); the two after it, within the interval, are held.
    await watcher.subscribe('room.7')
    await first.subscribe('room.7')
    await second.subscribe('room.7')

    await first.ok({ type: 'publish', channel: 'room.7', data: 'after both joined' })
    await watcher.next('channel_message')

    const seen = watcher.frames.flatMap((frame) =>
      frame.type === 'presence' && frame.channel === 'room.7'
        ? [`${frame.event} ${frame.client.clientId}`]
        : frame.type === 'channel_message'
          ? [`message ${String(frame.data)}`]
          : [],
    )
    expect(seen).toEqual(['join watcher', 'join first', 'join second', 'message after both joined'])
  })

  it('reports a client that vanishes without closing as offline (leave) within offlineTimeout + one heartbeat + the broadcast interval', async () => {
    // The gateway's own heartbeat is slow here, so it does not reap the silent socket first: the leave must
    // come from the presence sweep.
    const offlineTimeoutS = 1
    const presenceHeartbeatS = 0.3
    const broadcastIntervalS = 0.2
    await start({
      heartbeatInterval: 10,
      presence: {
        heartbeatInterval: presenceHeartbeatS,
        offlineTimeout: offlineTimeoutS,
        broadcastInterval: broadcastIntervalS,
      },
    })
    const watcher = client('watcher')
    await watcher.connect()
    const seen = recordEvents(watcher, 'presence')
    await watcher.subscribe('room.42')

    // A raw socket that subscribes, then never sends another frame (it does not answer pings either).
    const ghost = await TestClient.connect(server?.started.wsUrl ?? '', { clientId: 'ghost' })
    raw.push(ghost)
    await ghost.subscribe('room.42')
    const silentSince = Date.now()
    await seen.waitFor((event) => event.client.clientId === 'ghost' && event.event === 'join')

    const leave = await seen.waitFor(
      (event) => event.client.clientId === 'ghost' && event.event === 'leave',
      15_000,
    )
    const elapsedMs = Date.now() - silentSince
    // Not before it was silent for offlineTimeout, and within offlineTimeout + one heartbeat + the time a
    // presence frame may be held (plus a margin for a loaded machine).
    expect(elapsedMs).toBeGreaterThanOrEqual(offlineTimeoutS * 1000 - 50)
    expect(elapsedMs).toBeLessThan((offlineTimeoutS + presenceHeartbeatS + broadcastIntervalS) * 1000 + 2_000)
    expect(leave.client.lastSeen).toBeLessThanOrEqual(silentSince)
    expect(ghost.readyState).toBe(WebSocket.OPEN)
    const listed = await watcher.getPresence('room.42')
    expect(listed.clients.map((entry) => entry.clientId)).not.toContain('ghost')

    // A sign of life brings it back (a join) at the next sweep.
    ghost.send({ type: 'ping' })
    await seen.waitFor(
      (event) =>
        event.client.clientId === 'ghost' &&
        event.event === 'join' &&
        seen.items.indexOf(event) > seen.items.indexOf(leave),
      5_000,
    )
  })
})
