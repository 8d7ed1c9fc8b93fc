import { ChannelList, ConnectionList, Health, PROTOCOL_VERSION } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { adminCall } from './support/admin-api.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

describe('GET /api/admin/connections and /api/admin/channels', () => {
  let server: TestGateway | undefined
  const clients: TestClient[] = []
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server?.dispose()
    server = undefined
  })

  async function get<T>(path: string, schema: { parse: (body: unknown) => T }): Promise<T> {
    const answer = await adminCall(server?.started.url ?? '', 'GET', path)
    expect(answer.status).toBe(200)
    return schema.parse(answer.body)
  }

  async function connect(clientId: string): Promise<TestClient> {
    const client = await TestClient.connect(server?.started.wsUrl ?? '', { clientId })
    clients.push(client)
    return client
  }

  it('lists the devices waiting for pairing with their request, and a total equal to what /health counts', async () => {
    server = await startTestGateway({ authToken: 'shared-secret-token', allowAnonymous: false })
    const device = await TestClient.open(server.started.wsUrl)
    clients.push(device)
    device.send({
      type: 'hello',
      id: 'h1',
      protocol: { min: 1, max: PROTOCOL_VERSION },
      pairing: { device: { name: 'kitchen tablet', platform: 'android' } },
    })
    const pending = await device.next('pairing_pending')

    const list = await get('/api/admin/connections', ConnectionList)
    expect(list.connections).toEqual([])
    expect(list.pairing).toEqual([
      expect.objectContaining({
        requestId: pending.requestId,
        deviceName: 'kitchen tablet',
        transport: 'websocket',
      }),
    ])
    const health = Health.parse(await (await fetch(`${server.started.url}/health`)).json())
    expect(list.total).toBe(health.connections)
    expect(list.total).toBe(1)
  })

  it('shows a durable subscription on its client connection and counts durable subscribers of a channel', async () => {
    server = await startTestGateway()
    const worker = await connect('durable-worker')
    await worker.ok({ type: 'subscribe', channel: 'jobs', durable: true })
    await worker.ok({ type: 'subscribe', channel: 'news' })
    const listener = await connect('live-listener')
    await listener.ok({ type: 'subscribe', channel: 'jobs' })
    const offline = await connect('offline-worker')
    await offline.ok({ type: 'subscribe', channel: 'archive', durable: true })
    offline.close()

    const list = await get('/api/admin/connections', ConnectionList)
    const workerRow = list.connections.find((connection) => connection.clientId === 'durable-worker')
    expect(workerRow).toMatchObject({ subscriptions: ['jobs', 'news'], durableSubscriptions: ['jobs'] })
    const listenerRow = list.connections.find((connection) => connection.clientId === 'live-listener')
    expect(listenerRow).toMatchObject({ subscriptions: ['jobs'], durableSubscriptions: [] })

    const { channels } = await get('/api/admin/channels', ChannelList)
    const byName = new Map(channels.map((channel) => [channel.name, channel]))
    expect(byName.get('jobs')).toMatchObject({ subscribers: 2, durableSubscribers: 1 })
    expect(byName.get('news')).toMatchObject({ subscribers: 1, durableSubscribers: 0 })
    // A channel only an absent durable subscriber holds is listed too.
    expect(byName.get('archive')).toMatchObject({ subscribers: 1, durableSubscribers: 1, messages: 0 })
  })
})
