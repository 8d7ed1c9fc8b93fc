import { Health, NodeList, Readiness } from '@parley/protocol'
import { createMemoryDeliveryBackend, type DeliveryBackend } from '@parley/stores'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMemoryBusNetwork, type MemoryBus, type MemoryBusNetwork } from '../src/bus/memory-bus.js'
import { ConfigError, parseConfig } from '../src/config.js'
import { deliveryBackendOptions } from '../src/delivery/open-delivery-backend.js'
import { type FrameOf, TestClient } from './support/test-client.js'
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/test-gateway.js'

type ChannelMessage = FrameOf<'channel_message'>

/**
 * Several gateways in one process on the in-process bus network, sharing one delivery backend (as nodes
 * share Postgres or Redis): what crosses nodes and what keeps offsets in order. The same paths run over
 * Redis and Postgres in `test/acceptance/cluster.test.ts`.
 */
describe('several nodes on one bus', () => {
  let network: MemoryBusNetwork
  let backend: DeliveryBackend
  let buses: MemoryBus[]
  let nodes: TestGateway[]
  const clients: TestClient[] = []
  /** While true, every node fails to read history from the store (as when Redis or Postgres is down). */
  let historyReadsFail = false

  beforeEach(async () => {
    network = createMemoryBusNetwork()
    backend = createMemoryDeliveryBackend(deliveryBackendOptions(parseConfig({})))
    historyReadsFail = false
    const shared = backend
    const deliveryBackend: DeliveryBackend = {
      ...shared,
      history: {
        ...shared.history,
        readSince: (channel, since, now) =>
          historyReadsFail
            ? Promise.reject(new Error('the store is unreachable'))
            : shared.history.readSince(channel, since, now),
      },
    }
    buses = ['node-1', 'node-2', 'node-3'].map((id) => network.join(id))
    nodes = []
    for (const bus of buses) {
      nodes.push(await startTestGateway({ delivery: { ackTimeout: 2 } }, { bus, deliveryBackend }))
    }
  })

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    for (const node of nodes) await node.dispose()
    for (const bus of buses) await bus.close()
    await backend.close()
  })

  async function connect(node: number, clientId?: string): Promise<TestClient> {
    const client = await TestClient.connect(
      nodes[node]?.started.wsUrl ?? '',
      clientId === undefined ? {} : { clientId },
    )
    clients.push(client)
    return client
  }

  function messages(client: TestClient, channel: string): ChannelMessage[] {
    return client.framesOf('channel_message').filter((frame) => frame.channel === channel)
  }

  function offsets(client: TestClient, channel: string): number[] {
    return messages(client, channel).map((frame) => frame.offset ?? -1)
  }

  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, index) => from + index)

  it('fans a publication on one node out to the subscribers of every node, once each', async () => {
    const [onOne, onTwo, onThree] = [await connect(0), await connect(1), await connect(2)]
    for (const client of [onOne, onTwo, onThree]) await client.subscribe('news')
    const publisher = await connect(0)
    const reply = await publisher.ok({ type: 'publish', channel: 'news', data: { n: 1 } })
    expect(reply.offset).toBe(1)
    for (const client of [onOne, onTwo, onThree]) {
      await client.waitUntil(() => messages(client, 'news').length === 1, 5_000, 'the publication')
      expect(messages(client, 'news')[0]).toMatchObject({
        data: { n: 1 },
        offset: 1,
        source: expect.any(String),
      })
    }
    // A marker after it shows nothing else (no second copy) was on its way.
    await publisher.ok({ type: 'publish', channel: 'news', data: { n: 2 } })
    for (const client of [onOne, onTwo, onThree]) {
      await client.waitUntil(() => messages(client, 'news').length >= 2, 5_000, 'the marker')
      expect(offsets(client, 'news')).toEqual([1, 2])
    }
  })

  it('keeps one offset order for publications from several nodes at once: no gap, no duplicate', async () => {
    const watchers = [await connect(0), await connect(1), await connect(2)]
    for (const watcher of watchers) await watcher.subscribe('busy')
    const publishers = [await connect(0), await connect(1), await connect(2)]
    const perPublisher = 60
    await Promise.all(
      publishers.map(async (publisher, index) => {
        for (let n = 0; n < perPublisher; n += 1) {
          // Not awaited one by one: batches of publications race each other across nodes.
          publisher.send({ type: 'publish', id: `p${index}-${n}`, channel: 'busy', data: { index, n } })
        }
        await publisher.waitUntil(
          () => publisher.framesOf('reply').length >= perPublisher,
          10_000,
          'every publish answered',
        )
      }),
    )
    const total = perPublisher * publishers.length
    for (const watcher of watchers) {
      await watcher.waitUntil(() => messages(watcher, 'busy').length >= total, 10_000, 'every publication')
      expect(offsets(watcher, 'busy')).toEqual(range(1, total))
    }
  })

  it('fills publications the bus lost from the store once the bus is back', async () => {
    const watcher = await connect(1)
    await watcher.subscribe('gappy')
    const publisher = await connect(0)
    await publisher.ok({ type: 'publish', channel: 'gappy', data: 1 })
    await watcher.waitUntil(() => messages(watcher, 'gappy').length === 1, 5_000, 'the first')
    buses[1]?.setReachable(false)
    for (let n = 2; n <= 6; n += 1) await publisher.ok({ type: 'publish', channel: 'gappy', data: n })
    expect(offsets(watcher, 'gappy')).toEqual([1])
    buses[1]?.setReachable(true)
    await watcher.waitUntil(() => messages(watcher, 'gappy').length >= 6, 5_000, 'the catch-up')
    expect(offsets(watcher, 'gappy')).toEqual(range(1, 6))
    await publisher.ok({ type: 'publish', channel: 'gappy', data: 7 })
    await watcher.waitUntil(() => messages(watcher, 'gappy').length >= 7, 5_000, 'live again')
    expect(offsets(watcher, 'gappy')).toEqual(range(1, 7))
  })

  it('fills a gap from the store as soon as a later publication arrives', async () => {
    const watcher = await connect(2)
    await watcher.subscribe('holes')
    const publisher = await connect(0)
    const other = await connect(1)
    await publisher.ok({ type: 'publish', channel: 'holes', data: 1 })
    await watcher.waitUntil(() => messages(watcher, 'holes').length === 1, 5_000, 'the first')
    // Node 2's publications are lost on the bus (its link is down), node 1's are not.
    buses[1]?.setReachable(false)
    await other.ok({ type: 'publish', channel: 'holes', data: 2 })
    await other.ok({ type: 'publish', channel: 'holes', data: 3 })
    await publisher.ok({ type: 'publish', channel: 'holes', data: 4 })
    await watcher.waitUntil(() => messages(watcher, 'holes').length >= 4, 5_000, 'the gap filled')
    expect(offsets(watcher, 'holes')).toEqual([1, 2, 3, 4])
    expect(messages(watcher, 'holes').map((frame) => frame.data)).toEqual([1, 2, 3, 4])
  })

  it('holds a publication after a gap while the store cannot be read, and fills the gap in order once it can', async () => {
    const watcher = await connect(2)
    await watcher.subscribe('stalled')
    await watcher.subscribe('marker')
    const publisher = await connect(0)
    const other = await connect(1)
    await publisher.ok({ type: 'publish', channel: 'stalled', data: 1 })
    await watcher.waitUntil(() => messages(watcher, 'stalled').length === 1, 5_000, 'the first')
    // Node 2's publication is lost on the bus; node 3 gets node 1's next ones after a gap it cannot read.
    buses[1]?.setReachable(false)
    await other.ok({ type: 'publish', channel: 'stalled', data: 2 })
    historyReadsFail = true
    await publisher.ok({ type: 'publish', channel: 'stalled', data: 3 })
    await publisher.ok({ type: 'publish', channel: 'stalled', data: 4 })
    // Node 3 fans out in arrival order on one chain: the marker after them shows it has handled 3 and 4.
    await publisher.ok({ type: 'publish', channel: 'marker', data: 'after' })
    await watcher.waitUntil(() => messages(watcher, 'marker').length === 1, 5_000, 'the marker')
    expect(offsets(watcher, 'stalled')).toEqual([1])
    // The store answers again; no further publication is needed for node 3 to fill the gap.
    historyReadsFail = false
    await watcher.waitUntil(() => messages(watcher, 'stalled').length >= 4, 10_000, 'the gap filled')
    expect(offsets(watcher, 'stalled')).toEqual([1, 2, 3, 4])
    expect(messages(watcher, 'stalled').map((frame) => frame.data)).toEqual([1, 2, 3, 4])
  })

  it('recovers a subscriber on another node by offset', async () => {
    const publisher = await connect(0)
    for (let n = 1; n <= 5; n += 1) await publisher.ok({ type: 'publish', channel: 'resume', data: n })
    const first = await connect(1)
    const position = await first.ok({ type: 'subscribe', channel: 'resume' })
    expect(position.offset).toBe(5)
    for (let n = 6; n <= 8; n += 1) await publisher.ok({ type: 'publish', channel: 'resume', data: n })
    const moved = await connect(2)
    const answer = await moved.ok({
      type: 'subscribe',
      channel: 'resume',
      since: { offset: 5, epoch: position.epoch },
    })
    expect(answer).toMatchObject({ recovered: true, replayed: 3, offset: 8 })
    await publisher.ok({ type: 'publish', channel: 'resume', data: 9 })
    await moved.waitUntil(() => messages(moved, 'resume').length >= 4, 5_000, 'replay and live')
    expect(offsets(moved, 'resume')).toEqual([6, 7, 8, 9])
  })

  it('gives a plain subscriber on a node that was not listening the current position, not a stale one', async () => {
    const onOne = await connect(0)
    await onOne.ok({ type: 'publish', channel: 'stale', data: 1 })
    const onTwo = await connect(1)
    for (let n = 2; n <= 4; n += 1) await onTwo.ok({ type: 'publish', channel: 'stale', data: n })
    const answer = await onOne.ok({ type: 'subscribe', channel: 'stale' })
    expect(answer.offset).toBe(4)
    await onTwo.ok({ type: 'publish', channel: 'stale', data: 5 })
    await onOne.waitUntil(() => messages(onOne, 'stale').length >= 1, 5_000, 'live')
    expect(offsets(onOne, 'stale')).toEqual([5])
  })

  it('sends broadcasts to the connections of every node', async () => {
    const listeners = [await connect(0), await connect(1), await connect(2)]
    const reply = await listeners[0]?.ok({ type: 'broadcast', data: { alert: true } })
    for (const listener of listeners) {
      const frame = await listener.next('broadcast_message', 5_000)
      expect(frame).toMatchObject({ data: { alert: true }, id: reply?.id })
    }
  })

  it('delivers a direct message to a recipient connected to another node, once', async () => {
    const recipient = await connect(2, 'agent-far')
    const sender = await connect(0, 'agent-near')
    const sent = await sender.ok({ type: 'send', to: 'agent-far', data: { hi: 1 } })
    const frame = await recipient.next('direct_message', 5_000)
    expect(frame).toMatchObject({ deliveryId: sent.deliveryId, data: { hi: 1 }, attempt: 1 })
    await recipient.ok({ type: 'ack', deliveryIds: [frame.deliveryId] })
    const second = await sender.ok({ type: 'send', to: 'agent-far', data: { hi: 2 } })
    await recipient.waitUntil(() => recipient.framesOf('direct_message').length >= 2, 5_000, 'the second')
    expect(recipient.framesOf('direct_message').map((direct) => direct.deliveryId)).toEqual([
      sent.deliveryId,
      second.deliveryId,
    ])
  })

  it('sends receipts to a sender connected to another node than the recipient', async () => {
    const recipient = await connect(1, 'receipt-recipient')
    const sender = await connect(0, 'receipt-sender')
    const sent = await sender.ok({ type: 'send', to: 'receipt-recipient', data: 1, receipt: true })
    const frame = await recipient.next('direct_message', 5_000)
    await recipient.ok({ type: 'ack', deliveryIds: [frame.deliveryId] })
    await sender.waitUntil(
      () => sender.framesOf('receipt').some((receipt) => receipt.status === 'acked'),
      5_000,
      'the acked receipt',
    )
    expect(sender.framesOf('receipt').map((receipt) => [receipt.deliveryId, receipt.status])).toEqual([
      [sent.deliveryId, 'delivered'],
      [sent.deliveryId, 'acked'],
    ])
  })

  it('hands a durable subscriber on another node its deliveries', async () => {
    const durable = await connect(1, 'durable-far')
    await durable.ok({ type: 'subscribe', channel: 'jobs', durable: true })
    const publisher = await connect(0)
    await publisher.ok({ type: 'publish', channel: 'jobs', data: { job: 1 } })
    const frame = await durable.next('channel_message', 5_000)
    expect(frame).toMatchObject({ channel: 'jobs', data: { job: 1 }, attempt: 1 })
    expect(frame.deliveryId).toEqual(expect.any(String))
  })

  it('listens on the bus only for channels it has local subscribers for', async () => {
    const url = nodes[1]?.started.url ?? ''
    async function listenedOnNodeTwo(): Promise<number | undefined> {
      const response = await fetch(`${url}/api/admin/nodes`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      })
      return NodeList.parse(await response.json()).nodes.find((entry) => entry.self)?.channels
    }
    async function waitForListened(count: number): Promise<void> {
      const deadline = Date.now() + 5_000
      let listened = await listenedOnNodeTwo()
      while (listened !== count && Date.now() < deadline) listened = await listenedOnNodeTwo()
      expect(listened).toBe(count)
    }
    // Publications elsewhere, on channels nobody on node 2 subscribes to, do not make it listen.
    const elsewhere = await connect(0)
    await elsewhere.subscribe('quiet')
    await elsewhere.ok({ type: 'publish', channel: 'quiet', data: 1 })
    await waitForListened(0)
    const local = await connect(1)
    await local.subscribe('news')
    await waitForListened(1)
    await local.ok({ type: 'unsubscribe', channel: 'news' })
    await waitForListened(0)
  })

  it('lists every node in /api/admin/nodes', async () => {
    const node = nodes[0] as TestGateway
    let listed: NodeList = { nodes: [] }
    const deadline = Date.now() + 5_000
    while (listed.nodes.length < 3 && Date.now() < deadline) {
      const response = await fetch(`${node.started.url}/api/admin/nodes`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      })
      listed = NodeList.parse(await response.json())
    }
    expect(listed.nodes.map((entry) => [entry.id, entry.self, entry.bus])).toEqual([
      ['node-1', true, 'ok'],
      ['node-2', false, 'ok'],
      ['node-3', false, 'ok'],
    ])
  })

  it('reports degraded health while its bus is down, and a bus check in readiness that keeps it ready', async () => {
    const url = nodes[0]?.started.url ?? ''
    expect(Health.parse(await (await fetch(`${url}/health`)).json()).status).toBe('ok')
    buses[0]?.setReachable(false)
    expect(Health.parse(await (await fetch(`${url}/health`)).json()).status).toBe('degraded')
    const ready = await fetch(`${url}/ready`)
    const readiness = Readiness.parse(await ready.json())
    expect(readiness.checks.bus).toEqual({ ok: false, message: 'degraded' })
    expect(ready.status).toBe(200)
    buses[0]?.setReachable(true)
    expect(Health.parse(await (await fetch(`${url}/health`)).json()).status).toBe('ok')
  })
})

describe('a lone node', () => {
  it('lists itself with bus local', async () => {
    const node = await startTestGateway({ nodeId: 'solo' })
    try {
      const response = await fetch(`${node.started.url}/api/admin/nodes`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      })
      const listed = NodeList.parse(await response.json())
      expect(listed.nodes).toEqual([
        expect.objectContaining({ id: 'solo', bus: 'local', self: true, connections: 0, channels: 0 }),
      ])
    } finally {
      await node.dispose()
    }
  })
})

describe('cluster configuration', () => {
  it('refuses a per-node memory store when Redis is configured', () => {
    const memory = { redis: { url: 'redis://127.0.0.1:6379' }, delivery: { storeBackend: 'memory' as const } }
    expect(() => parseConfig(memory)).toThrow(ConfigError)
    expect(() => parseConfig(memory)).toThrow(/delivery\.storeBackend .*use postgres or redis, not memory/)
    expect(
      parseConfig({ redis: { url: 'redis://127.0.0.1:6379' }, delivery: { storeBackend: 'postgres' } })
        .delivery.storeBackend,
    ).toBe('postgres')
  })
})
