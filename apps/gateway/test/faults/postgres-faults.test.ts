import { createTestDatabase, type TestDatabase, testServerUrl } from '@parley/stores/testing'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { type FaultMode, type FaultProxy, startFaultProxy, throughProxy } from '../support/fault-proxy.js'
import { type FaultGateway, startFaultGateway } from './support/fault-gateways.js'
import { runFaultScenario } from './support/fault-scenario.js'

/**
 * A gateway on `--store-backend postgres` (every store on the server: history, deliveries, audit, tokens,
 * policies, state) whose link to PostgreSQL fails for 10 s under publishes and agent requests: reset (RST,
 * new connections refused), closed (FIN, as a server restart), blackholed (nothing answered), slow.
 */

const OUTAGE_MS = 10_000
const serverUrl = testServerUrl()
const SKIP_REASON =
  'skipped: needs DATABASE_URL, a real PostgreSQL server behind a TCP proxy the test controls (CI sets it)'

const SCENARIOS: { mode: FaultMode; storeDown: boolean; title: string }[] = [
  { mode: 'reset', storeDown: true, title: 'its connections are reset and new ones refused' },
  { mode: 'close', storeDown: true, title: 'the server closes its connections and refuses new ones' },
  { mode: 'blackhole', storeDown: true, title: 'the link drops every packet' },
  { mode: 'slow', storeDown: false, title: 'the link is slow' },
]

describe.skipIf(serverUrl === undefined)(
  serverUrl === undefined ? `postgres faults (${SKIP_REASON})` : 'postgres faults',
  () => {
    const port = Number(new URL(serverUrl ?? 'postgres://127.0.0.1').port || 5432)
    let database: TestDatabase
    let proxy: FaultProxy
    let node: FaultGateway | undefined

    beforeAll(async () => {
      database = await createTestDatabase('postgres', serverUrl)
      proxy = await startFaultProxy(port, new URL(serverUrl as string).hostname)
    })

    afterAll(async () => {
      await node?.dispose()
      await proxy?.close()
      await database?.drop()
    })

    for (const scenario of SCENARIOS) {
      it(`stays up, answers retryable errors, recovers and loses no acknowledged publish when ${scenario.title}`, async ({
        annotate,
      }) => {
        node = await startFaultGateway({
          delivery: { storeBackend: 'postgres' },
          databaseUrl: throughProxy(database.url as string, proxy),
        })
        const summary = await runFaultScenario({
          mode: scenario.mode,
          proxy,
          nodes: [node],
          publisherNode: 0,
          subscriberNode: 0,
          agentNode: 0,
          callerNode: 0,
          outageMs: OUTAGE_MS,
          storeDown: scenario.storeDown,
          channel: `pg-${scenario.mode}`,
        })
        await annotate(summary)
        await node.dispose()
        node = undefined
      }, 120_000)
    }
  },
)
