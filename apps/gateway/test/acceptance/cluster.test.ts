import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PushClient } from '@parley/client'
import { AdminPresenceList, ConnectionList, DeliveryStats, Health, NodeList } from '@parley/protocol'
import { createTestDatabase, type TestDatabase, testServerUrl } from '@parley/stores/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConditions } from './support/conditions.js'
import { freePort, type GatewayProcess, startGatewayProcess } from './support/gateway-process.js'
import { type LoadBalancer, startLoadBalancer } from './support/load-balancer.js'
import { publishStream } from './support/publisher.js'
import { hasRedisServer, type RedisServerProcess, startRedisServer } from './support/redis-server.js'
import { StreamRecorder, streamProblems } from './support/stream-recorder.js'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js'

/**
 * Three gateway processes share a private redis-server (the bus) and a fresh Postgres database (the store).
 * A publication on one node reaches the subscribers of the others; a node SIGKILLed under load loses no
 * subscriber (they reconnect through a load balancer to a live node and recover by offset); Redis killed and
 * started again under load costs no acknowledged publication. With the Redis store that redis-server keeps an
 * append-only file (fsynced on every write, as docs/operations.md asks of Redis as the store) and reloads it.
 */

const ADMIN_TOKEN = 'cluster-test-admin-token-0123456789'
/** Presence sweep period of every node, in seconds. */
const PRESENCE_HEARTBEAT_S = 1
const WAIT_MS = 90_000
const serverUrl = testServerUrl()
const redisAvailable = hasRedisServer()
const SKIP_REASON =
  'skipped: needs DATABASE_URL (a real PostgreSQL server the three gateway processes share) and a ' +
  'redis-server binary (the test runs its own, which it kills and restarts)'
// With REDIS_URL set (CI) a missing redis-server binary fails the run instead of skipping it.
const runnable = serverUrl !== undefined && (redisAvailable || process.env.REDIS_URL !== undefined)

for (const storeBackend of ['postgres', 'redis'] as const) describeCluster(storeBackend)

/** The store every node shares: Postgres, or Redis (the test's own redis-server, also the bus). */
function describeCluster(storeBackend: 'postgres' | 'redis'): void {
  const name = `cluster of three nodes (${storeBackend} store)`
  describe.skipIf(!runnable)(runnable ? name : `${name} (${SKIP_REASON})`, () => {
    let database: TestDatabase
    let redis: RedisServerProcess
    const dataDirs: string[] = []
    let aofDir: string | undefined
    const ports: number[] = []
    const nodes: (GatewayProcess | undefined)[] = []
    const clients: PushClient[] = []
    const proxies: TcpProxy[] = []
    let balancer: LoadBalancer | undefined
    const conditions = createConditions()
    const reconnect = { initialDelayMs: 50, maxDelayMs: 500 }
    const timeouts = { requestTimeoutMs: WAIT_MS, connectTimeoutMs: WAIT_MS }

    /** Waits for every subscriber to reach `finalOffset`, then checks none has a gap, duplicate or miss. */
    async function expectWholeStreams(recorders: StreamRecorder[], channel: string, finalOffset: number) {
      for (const [index, recorder] of recorders.entries()) {
        await conditions.until(
          () => recorder.record(channel).lastOffset === finalOffset,
          WAIT_MS,
          () => `subscriber ${index} at offset ${finalOffset} (at ${recorder.record(channel).lastOffset})`,
        )
        const problems = streamProblems(recorder, channel, finalOffset, `subscriber ${index}`)
        expect(problems, [...problems.gaps, ...problems.missed].slice(0, 20).join('\n')).toEqual({
          gaps: [],
          duplicates: [],
          missed: [],
        })
      }
    }

    const wsUrl = (node: number) => `ws://127.0.0.1:${ports[node]}/ws`
    const httpUrl = (node: number) => `http://127.0.0.1:${ports[node]}`

    async function startNode(index: number): Promise<GatewayProcess> {
      if (database.url === undefined) throw new Error('the test database has no URL')
      return startGatewayProcess({
        port: ports[index] as number,
        args: [
          ...['--store-backend', storeBackend, '--database-url', database.url],
          ...['--redis-url', redis.url, '--node-id', `node-${index + 1}`],
          ...['--data-dir', dataDirs[index] as string],
        ],
        env: {
          PARLEY_ADMIN_TOKEN: ADMIN_TOKEN,
          PARLEY_HISTORY_SIZE: '100000',
          PARLEY_HISTORY_TTL: '3600',
          // The redis-server is the test's own; the prefix only shows which keys are the gateways'.
          PARLEY_REDIS_PREFIX: 'parley-cluster-test:',
          PARLEY_PRESENCE_HEARTBEAT_INTERVAL: String(PRESENCE_HEARTBEAT_S),
          PARLEY_PRESENCE_OFFLINE_TIMEOUT: '120',
        },
      })
    }

    function client(url: string, clientId: string): PushClient {
      const created = new PushClient(url, { clientId, reconnect, ...timeouts })
      clients.push(created)
      return created
    }

    async function admin<T>(node: number, path: string, parse: (body: unknown) => T): Promise<T> {
      const response = await fetch(`${httpUrl(node)}${path}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
      return parse(await response.json())
    }

    async function health(node: number): Promise<Health['status']> {
      return Health.parse(await (await fetch(`${httpUrl(node)}/health`)).json()).status
    }

    async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
      const deadline = Date.now() + timeoutMs
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }

    beforeAll(async () => {
      database = await createTestDatabase('postgres', serverUrl)
      // The Redis store lives in this redis-server: it must persist its writes, as an operator runs it.
      if (storeBackend === 'redis') aofDir = await mkdtemp(join(tmpdir(), 'parley-cluster-redis-'))
      redis = await startRedisServer(await freePort(), { aofDir })
      for (let index = 0; index < 3; index += 1) {
        dataDirs.push(await mkdtemp(join(tmpdir(), `parley-cluster-${index + 1}-`)))
        ports.push(await freePort())
      }
      // The first node migrates the database; the others start on it together.
      nodes[0] = await startNode(0)
      const others = await Promise.all([startNode(1), startNode(2)])
      nodes[1] = others[0]
      nodes[2] = others[1]
    }, 180_000)

    afterAll(async () => {
      await Promise.all(clients.map((created) => created.close()))
      for (const proxy of proxies) await proxy.close()
      await balancer?.close()
      for (const node of nodes) await node?.kill()
      await redis?.kill()
      await database?.drop()
      for (const dir of dataDirs) await rm(dir, { recursive: true, force: true })
      if (aofDir !== undefined) await rm(aofDir, { recursive: true, force: true })
    })

    it('lists the three nodes on every node', async () => {
      for (const node of [0, 1, 2]) {
        await until(
          async () => (await admin(node, '/api/admin/nodes', NodeList.parse)).nodes.length === 3,
          WAIT_MS,
          `node ${node + 1} listing three nodes`,
        )
        const listed = await admin(node, '/api/admin/nodes', NodeList.parse)
        expect(listed.nodes.map((entry) => entry.id).sort()).toEqual(['node-1', 'node-2', 'node-3'])
        expect(listed.nodes.filter((entry) => entry.self).map((entry) => entry.id)).toEqual([
          `node-${node + 1}`,
        ])
        expect(listed.nodes.every((entry) => entry.bus === 'ok')).toBe(true)
      }
    })

    it('a publish on node 1 reaches the subscribers on nodes 2 and 3', async () => {
      const onTwo = client(wsUrl(1), 'fanout-2')
      const onThree = client(wsUrl(2), 'fanout-3')
      const received: Record<string, unknown[]> = { two: [], three: [] }
      onTwo.on('channel_message', (message) => received.two?.push(message.data))
      onThree.on('channel_message', (message) => received.three?.push(message.data))
      await Promise.all([onTwo.connect(), onThree.connect()])
      await Promise.all([onTwo.subscribe('cluster.fanout'), onThree.subscribe('cluster.fanout')])
      const publisher = client(wsUrl(0), 'fanout-publisher')
      await publisher.connect()
      const receipt = await publisher.publish('cluster.fanout', { hello: 'cluster' })
      expect(receipt.offset).toBe(1)
      await until(
        async () => received.two?.length === 1 && received.three?.length === 1,
        WAIT_MS,
        'the publication on nodes 2 and 3',
      )
      expect(received).toEqual({ two: [{ hello: 'cluster' }], three: [{ hello: 'cluster' }] })
    })

    it('presence agrees on all nodes within two heartbeats', async () => {
      const present = ['presence-1', 'presence-2', 'presence-3']
      const connected = present.map((clientId, node) => client(wsUrl(node), clientId))
      await Promise.all(connected.map((created) => created.connect()))
      const connectedAt = Date.now()
      const listedOn = async (node: number) =>
        new Set(
          (await admin(node, '/api/admin/presence', AdminPresenceList.parse)).clients.map(
            (entry) => entry.clientId,
          ),
        )
      const agreed = async () => {
        for (const node of [0, 1, 2]) {
          const listed = await listedOn(node)
          if (!present.every((clientId) => listed.has(clientId))) return false
        }
        return true
      }
      // Two sweeps, plus the time one round of three admin requests takes on a loaded machine.
      await until(agreed, 2 * PRESENCE_HEARTBEAT_S * 1000 + 1_000, 'presence of all three on all three nodes')
      expect(Date.now() - connectedAt).toBeLessThanOrEqual(2 * PRESENCE_HEARTBEAT_S * 1000 + 1_000)
      for (const node of [0, 1, 2]) {
        const entries = (await admin(node, '/api/admin/presence', AdminPresenceList.parse)).clients
        for (const [index, clientId] of present.entries()) {
          expect(entries.find((entry) => entry.clientId === clientId)?.nodes).toEqual([`node-${index + 1}`])
        }
      }
      await Promise.all(connected.map((created) => created.close()))
    })

    it('clients of a SIGKILLed node reconnect to another node and recover by offset: no gap, no duplicate; its direct messages arrive once', async () => {
      const channel = 'cluster.failover'
      // New connections go to node 2 while it lives, then to node 3, then node 1.
      balancer = await startLoadBalancer([ports[1] as number, ports[2] as number, ports[0] as number])
      const subscribers = Array.from({ length: 4 }, (_, index) =>
        client(balancer?.wsUrl ?? '', `failover-${index}`),
      )
      const recorders = subscribers.map(
        (subscriber) => new StreamRecorder(subscriber, { onChange: conditions.changed }),
      )
      const welcomedOn = new Map<PushClient, string[]>()
      for (const subscriber of subscribers) {
        welcomedOn.set(subscriber, [])
        subscriber.on('connect', (welcome) => welcomedOn.get(subscriber)?.push(welcome.node ?? ''))
      }
      await Promise.all(subscribers.map((subscriber) => subscriber.connect()))
      for (const subscriber of subscribers) await subscriber.subscribe(channel)
      expect(subscribers.map((subscriber) => welcomedOn.get(subscriber)?.[0])).toEqual(
        subscribers.map(() => 'node-2'),
      )

      // An agent on node 2, behind a path that can lose what node 2 sends it: deliveries node 2 has in
      // flight when it dies never reached it, and only come back through the survivors.
      const agentPath = await startTcpProxy(balancer.port)
      proxies.push(agentPath)
      const agent = client(agentPath.wsUrl, 'failover-agent')
      const handled = new Map<string, number>()
      agent.on('direct_message', (message) => {
        handled.set(message.id, (handled.get(message.id) ?? 0) + 1)
        conditions.changed()
      })
      expect((await agent.connect()).node).toBe('node-2')
      const sender = client(wsUrl(0), 'failover-sender')
      await sender.connect()
      const sent: string[] = []
      for (let n = 0; n < 20; n += 1) sent.push((await sender.send('failover-agent', { n })).id)
      await conditions.until(() => handled.size === 20, WAIT_MS, 'the first 20 direct messages handled')
      const inflight = async () => (await admin(0, '/api/admin/deliveries', DeliveryStats.parse)).inflight
      const killNodeTwo = async () => {
        agentPath.stallReplies()
        for (let n = 20; n < 30; n += 1) sent.push((await sender.send('failover-agent', { n })).id)
        await until(async () => (await inflight()) >= 10, WAIT_MS, '10 deliveries in flight on node 2')
        await nodes[1]?.kill()
      }

      const publisher = client(wsUrl(0), 'failover-publisher')
      await publisher.connect()
      let killed: Promise<void> | undefined
      const stream = publishStream(publisher, {
        channel,
        window: 20,
        count: 3_000,
        keyPrefix: 'failover-',
        onAck: () => {
          if (killed === undefined && stream.acked.size >= 1_000) killed = killNodeTwo()
          conditions.changed()
        },
      })
      await conditions.until(() => killed !== undefined, WAIT_MS, '1,000 acks before the kill')
      await killed
      nodes[1] = undefined
      await stream.done
      expect(stream.failures).toEqual([])
      const finalOffset = stream.lastOffset
      expect(finalOffset).toBe(3_000)
      await expectWholeStreams(recorders, channel, finalOffset)
      for (const recorder of recorders) {
        expect(recorder.resubscribes().length).toBeGreaterThanOrEqual(1)
        expect(recorder.resubscribes().filter((info) => !info.recovered)).toEqual([])
      }
      await conditions.until(
        () => sent.every((id) => handled.has(id)),
        WAIT_MS,
        () =>
          `every direct message handled (${sent.filter((id) => !handled.has(id)).length} of ${sent.length} missing)`,
      )
      expect([...handled.values()].filter((calls) => calls > 1)).toEqual([])
      expect(handled.size).toBe(30)
      // Node 3 sent them again (attempt 2): node 2's in-flight deliveries were released after it died.
      const onThree = await admin(2, '/api/admin/deliveries', DeliveryStats.parse)
      expect(onThree.counters.redeliveries).toBeGreaterThanOrEqual(10)
      // And acked there: nothing is left in flight.
      await until(async () => (await inflight()) === 0, WAIT_MS, 'every delivery acked')
      // Every subscriber now lives on node 3 (the first live node the balancer tries).
      for (const subscriber of subscribers) expect(welcomedOn.get(subscriber)?.at(-1)).toBe('node-3')
      const connectedToThree = await admin(2, '/api/admin/connections', ConnectionList.parse)
      const ids = new Set(connectedToThree.connections.map((connection) => connection.clientId))
      for (let index = 0; index < subscribers.length; index += 1)
        expect(ids.has(`failover-${index}`)).toBe(true)
      // The dead node leaves the registry once its entry expires.
      await until(
        async () =>
          !(await admin(0, '/api/admin/nodes', NodeList.parse)).nodes.some((node) => node.id === 'node-2'),
        WAIT_MS,
        'node 2 gone from the registry',
      )
    }, 240_000)

    it('Redis killed and restarted under load: service resumes and every acknowledged publication reaches every subscriber', async () => {
      const channel = 'cluster.redis-restart'
      const subscribers = [
        client(wsUrl(0), 'restart-sub-1'),
        client(wsUrl(2), 'restart-sub-3'),
        client(wsUrl(2), 'restart-sub-3b'),
      ]
      const recorders = subscribers.map(
        (subscriber) => new StreamRecorder(subscriber, { onChange: conditions.changed }),
      )
      await Promise.all(subscribers.map((subscriber) => subscriber.connect()))
      for (const subscriber of subscribers) await subscriber.subscribe(channel)
      // Publishers on both live nodes: each node's subscribers depend on the bus for the other's publications.
      const publishers = [client(wsUrl(0), 'restart-pub-1'), client(wsUrl(2), 'restart-pub-3')]
      await Promise.all(publishers.map((publisher) => publisher.connect()))
      const streams = publishers.map((publisher, index) =>
        publishStream(publisher, { channel, window: 10, keyPrefix: `restart-${index}-` }),
      )
      const acked = () => streams.reduce((sum, stream) => sum + stream.acked.size, 0)
      const retries = () => streams.reduce((sum, stream) => sum + stream.retries, 0)
      await until(async () => acked() >= 500, WAIT_MS, '500 acks before Redis goes')

      await redis.kill()
      await until(
        async () => (await health(0)) === 'degraded' && (await health(2)) === 'degraded',
        WAIT_MS,
        'both nodes degraded',
      )
      const ackedWhileDown = acked()
      if (storeBackend === 'postgres') {
        // Each node keeps serving its own clients: publishes are still stored and answered.
        await until(
          async () => acked() >= ackedWhileDown + 200,
          WAIT_MS,
          'publishes answered while Redis is down',
        )
      } else {
        // The store is down too: publishes are refused (retryable) and the publishers retry them.
        const retriedWhileDown = retries()
        await until(
          async () => retries() >= retriedWhileDown + 20,
          WAIT_MS,
          'publishes refused while Redis is down',
        )
      }
      await redis.restart()
      await until(
        async () => (await health(0)) === 'ok' && (await health(2)) === 'ok',
        WAIT_MS,
        'both nodes ok again',
      )
      const ackedAfter = acked()
      await until(async () => acked() >= ackedAfter + 500, WAIT_MS, 'publishes after Redis is back')
      await Promise.all(streams.map((stream) => stream.stop()))
      for (const stream of streams) expect(stream.failures).toEqual([])
      // One stream throughout: the channel kept its epoch (the Redis store reloaded it from the AOF).
      const epochs = new Set(
        streams.flatMap((stream) => [...stream.acked.values()].map((receipt) => receipt.epoch)),
      )
      expect(epochs.size).toBe(1)

      const finalOffset = Math.max(...streams.map((stream) => stream.lastOffset))
      expect(finalOffset).toBe(acked())
      await expectWholeStreams(recorders, channel, finalOffset)
      for (const recorder of recorders) expect(recorder.record(channel).epochChanges).toBe(0)
      // And the registry is back: both live nodes list each other.
      await until(
        async () => (await admin(0, '/api/admin/nodes', NodeList.parse)).nodes.length === 2,
        WAIT_MS,
        'the registry rebuilt after the restart',
      )
    }, 240_000)
  })
}
