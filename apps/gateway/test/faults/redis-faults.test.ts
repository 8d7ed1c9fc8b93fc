import {
  createMemoryAgentKeyStore,
  createMemoryAuditLog,
  createMemoryDevicePairingStore,
  createMemoryGrantStore,
  createMemoryPairingStore,
  createMemoryPolicyStore,
  createMemorySessionBindingStore,
  createMemoryStateStore,
  createMemoryTokenStore,
} from '@parley/stores'
import { deleteRedisKeys, testRedisPrefix, testRedisUrl } from '@parley/stores/testing'
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest'
import { type FaultMode, type FaultProxy, startFaultProxy, throughProxy } from '../support/fault-proxy.js'
import { type FaultGateway, startFaultGateway } from './support/fault-gateways.js'
import { runFaultScenario } from './support/fault-scenario.js'

/**
 * Three gateway nodes on `--store-backend redis` sharing one Redis for the bus (fan-out between nodes,
 * agent routing, node registry) and for channel history and deliveries, whose link to Redis fails for 10 s
 * under publishes and agent requests that cross nodes: reset, blackhole, slow. The other stores are in
 * memory, so Redis is the only dependency that fails.
 */

const OUTAGE_MS = 10_000
const redisUrl = testRedisUrl()
const SKIP_REASON =
  'skipped: needs REDIS_URL, a real Redis server behind a TCP proxy the test controls (CI sets it)'

const SCENARIOS: { mode: FaultMode; storeDown: boolean; title: string }[] = [
  { mode: 'reset', storeDown: true, title: 'their connections are reset and new ones refused' },
  { mode: 'blackhole', storeDown: true, title: 'the link drops every packet' },
  { mode: 'slow', storeDown: false, title: 'the link is slow' },
]

describe.skipIf(redisUrl === undefined)(
  redisUrl === undefined ? `redis faults, three nodes (${SKIP_REASON})` : 'redis faults, three nodes',
  () => {
    let proxy: FaultProxy
    let prefix: string
    const nodes: FaultGateway[] = []

    beforeAll(async () => {
      const url = new URL(redisUrl as string)
      proxy = await startFaultProxy(Number(url.port || 6379), url.hostname)
    })

    afterEach(async () => {
      for (const node of nodes.splice(0)) await node.dispose()
      if (prefix !== undefined) await deleteRedisKeys(redisUrl as string, prefix)
    })

    afterAll(async () => {
      await proxy?.close()
    })

    const startNode = () =>
      startFaultGateway(
        {
          delivery: { storeBackend: 'redis' },
          redis: { url: throughProxy(redisUrl as string, proxy), prefix },
        },
        {
          audit: createMemoryAuditLog(),
          tokenStore: createMemoryTokenStore(),
          sessionBinding: createMemorySessionBindingStore(),
          pairingStore: createMemoryPairingStore({ secret: new Uint8Array(32).fill(7) }),
          devicePairing: createMemoryDevicePairingStore(),
          agentKeys: createMemoryAgentKeyStore(),
          policyStore: createMemoryPolicyStore({ defaultEffect: 'allow' }),
          grantStore: createMemoryGrantStore(),
          stateStore: createMemoryStateStore(),
        },
      )

    for (const scenario of SCENARIOS) {
      it(`every node stays up, answers retryable errors, recovers and loses no acknowledged publish when ${scenario.title}`, async ({
        annotate,
      }) => {
        prefix = testRedisPrefix()
        for (let index = 0; index < 3; index += 1) nodes.push(await startNode())
        const summary = await runFaultScenario({
          mode: scenario.mode,
          proxy,
          nodes,
          // Publisher and subscriber on different nodes (fan-out crosses the bus), agent and caller too.
          publisherNode: 0,
          subscriberNode: 1,
          agentNode: 2,
          callerNode: 0,
          outageMs: OUTAGE_MS,
          storeDown: scenario.storeDown,
          channel: `redis-${scenario.mode}`,
        })
        await annotate(summary)
      }, 150_000)
    }
  },
)
