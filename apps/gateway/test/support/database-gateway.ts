import {
  createPostgresAgentKeyStore,
  createPostgresDevicePairingStore,
  createPostgresGrantStore,
  createPostgresPairingStore,
  createPostgresPolicyStore,
  createPostgresSessionBindingStore,
  createPostgresTokenStore,
  openDatabase,
} from '@parley/stores'
import { createTestDatabase } from '@parley/stores/testing'
import type { GatewayConfigInput } from '../../src/config.js'
import type { CreateGatewayOptions } from '../../src/create-gateway.js'
import { startTestGateway, type TestGateway } from './test-gateway.js'

/**
 * A test gateway whose stores (tokens, pairing, devices, agent keys, policies, grants, sessions, audit) are the
 * Postgres ones, as in production, on a fresh test database (in-memory PGlite, or the `DATABASE_URL` server
 * when set). `startTestGateway` alone uses memory stores, which accept input a database refuses.
 */
export async function startDatabaseGateway(
  config: GatewayConfigInput = {},
  options: Omit<Partial<CreateGatewayOptions>, 'config'> = {},
): Promise<TestGateway> {
  const testDatabase = await createTestDatabase()
  const database = await openDatabase(
    testDatabase.url === undefined ? { dataDir: testDatabase.dataDir } : { url: testDatabase.url },
  )
  const server = await startTestGateway(config, {
    ...options,
    memoryAudit: false,
    database,
    tokenStore: createPostgresTokenStore(database),
    agentKeys: createPostgresAgentKeyStore(database),
    policyStore: createPostgresPolicyStore(database, { defaultEffect: 'allow' }),
    grantStore: createPostgresGrantStore(database),
    sessionBinding: createPostgresSessionBindingStore(database),
    devicePairing: createPostgresDevicePairingStore(database),
    pairingStore: createPostgresPairingStore(database, {
      secret: new Uint8Array(32).fill(7),
      codeTtlMs: 5 * 60_000,
      maxPendingPerChannelType: 100,
      maxFailedAttempts: 5,
    }),
  })
  return {
    ...server,
    async dispose() {
      await server.dispose()
      await database.close()
      await testDatabase.drop()
    },
  }
}
