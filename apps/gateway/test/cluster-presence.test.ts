import { PushClient } from '@parley/client'
import { AdminPresenceList } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryBusNetwork, type MemoryBus } from '../src/bus/memory-bus.js'
import { recordEvents, until } from './support/client-events.js'
import { adminHeaders, startTestGateway, type TestGateway } from './support/test-gateway.js'

const HEARTBEAT_S = 0.3
const OFFLINE_S = 1
const BROADCAST_INTERVAL_S = 0.2

describe('presence across gateway nodes', () => {
  const gateways: TestGateway[] = []
  const buses: MemoryBus[] = []
  const clients: PushClient[] = []

  async function twoNodes() {
    const network = createMemoryBusNetwork()
    const busA = network.join('node-a')
    const busB = network.join('node-b')
    buses.push(busA, busB)
    const config = {
      allowAnonymous: true,
      presence: {
        heartbeatInterval: HEARTBEAT_S,
        offlineTimeout: OFFLINE_S,
        broadcastInterval: BROADCAST_INTERVAL_S,
      },
      // Clients answer the gateway's pings well within offlineTimeout.
      heartbeatInterval: 0.25,
    }
    const nodeA = await startTestGateway(config, { bus: busA })
    const nodeB = await startTestGateway(config, { bus: busB })
    gateways.push(nodeA, nodeB)
    return { nodeA, nodeB, busA, busB }
  }

  function client(gateway: TestGateway, clientId: string): PushClient {
    const created = new PushClient(gateway.started.wsUrl, { clientId, reconnect: false })
    clients.push(created)
    return created
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((created) => created.close()))
    for (const gateway of gateways.splice(0)) await gateway.dispose()
    for (const bus of buses.splice(0)) await bus.close()
  })

  it('lists a status set on node A on node B, and sends join and update to B’s subscribers', async () => {
    const { nodeA, nodeB } = await twoNodes()
    const ana = client(nodeA, 'ana')
    const bob = client(nodeB, 'bob')
    await Promise.all([ana.connect(), bob.connect()])
    const seen = recordEvents(bob, 'presence')
    await bob.subscribe('room.42')

    await ana.subscribe('room.42')
    await seen.waitFor((event) => event.client.clientId === 'ana' && event.event === 'join')
    await ana.setStatus('busy', { task: 'summarising' })
    const update = await seen.waitFor((event) => event.client.clientId === 'ana' && event.event === 'update')
    expect(update.client).toMatchObject({ status: 'busy', metadata: { task: 'summarising' } })

    const listed = await bob.getPresence('room.42')
    expect(listed.clients.map((entry) => entry.clientId).sort()).toEqual(['ana', 'bob'])
    expect(listed.clients.find((entry) => entry.clientId === 'ana')).toMatchObject({
      status: 'busy',
      metadata: { task: 'summarising' },
      connections: 1,
    })

    const response = await fetch(`${nodeB.started.url}/api/admin/presence`, { headers: adminHeaders() })
    const body = AdminPresenceList.parse(await response.json())
    expect(body.clients.find((entry) => entry.clientId === 'ana')).toMatchObject({
      nodes: ['node-a'],
      channels: ['room.42'],
      status: 'busy',
    })
    expect(body.clients.find((entry) => entry.clientId === 'bob')).toMatchObject({ nodes: ['node-b'] })
  })

  it('makes the clients of a node that stops refreshing leave on the other node within about two heartbeats', async () => {
    const { nodeA, nodeB, busA } = await twoNodes()
    const ana = client(nodeA, 'ana')
    const bob = client(nodeB, 'bob')
    await Promise.all([ana.connect(), bob.connect()])
    const seen = recordEvents(bob, 'presence')
    await bob.subscribe('room.42')
    await ana.subscribe('room.42')
    await seen.waitFor((event) => event.client.clientId === 'ana' && event.event === 'join')
    // Node B has read A's entries at least once.
    await until(
      async () => (await bob.getPresence('room.42')).clients.some((entry) => entry.clientId === 'ana'),
      5_000,
      'ana listed on node B',
    )

    // Node A dies without a goodbye: it can no longer publish or refresh its entries.
    busA.setReachable(false)
    const diedAt = Date.now()
    await busA.close()

    await seen.waitFor((event) => event.client.clientId === 'ana' && event.event === 'leave', 15_000)
    const elapsedMs = Date.now() - diedAt
    // The entry lives two heartbeats (at least 1 s) after its last refresh, B sweeps every heartbeat and may
    // hold the leave for the broadcast interval; the rest is margin for a loaded machine.
    expect(elapsedMs).toBeLessThan(1_000 + (HEARTBEAT_S + BROADCAST_INTERVAL_S) * 1000 + 2_000)
    const listed = await bob.getPresence('room.42')
    expect(listed.clients.map((entry) => entry.clientId)).toEqual(['bob'])
  })
})
