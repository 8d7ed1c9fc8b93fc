import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { describe, expect, it, vi } from 'vitest'
import type { ParleyDatabase } from '../database.js'
import { apiTokens, dashboardSessions, pairingRequests } from '../schema.js'
import { databaseTargets, useSuiteDatabase } from '../testing.js'
import { describeAgentKeyStoreBehaviour } from './agent-key-store.behaviour.js'
import { describeDashboardSessionStoreBehaviour } from './dashboard-session-store.behaviour.js'
import { describeDevicePairingStoreBehaviour } from './device-pairing-store.behaviour.js'
import { T0 } from './identity-fixture.js'
import { describePairingStoreBehaviour, PAIRING_SECRET } from './pairing-store.behaviour.js'
import { createPostgresAgentKeyStore } from './postgres-agent-key-store.js'
import { createPostgresDashboardSessionStore } from './postgres-dashboard-session-store.js'
import { createPostgresDevicePairingStore } from './postgres-device-pairing-store.js'
import { createPostgresPairingStore } from './postgres-pairing-store.js'
import { createPostgresSessionBindingStore } from './postgres-session-binding-store.js'
import { createPostgresTokenStore } from './postgres-token-store.js'
import { describeSessionBindingStoreBehaviour } from './session-binding-store.behaviour.js'
import { describeTokenStoreBehaviour } from './token-store.behaviour.js'

// The token suite checks that secrets are compared with timingSafeEqual: make it a spy that still works.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>()
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) }
})

const IDENTITY_TABLES = sql`api_tokens, pairing_requests, paired_channels, device_requests, session_bindings, agent_keys, dashboard_sessions`

for (const target of databaseTargets()) {
  describe(`Postgres identity stores on ${target.label}`, () => {
    const suite = useSuiteDatabase(target)

    const reset = async () => {
      await suite.database.db.execute(sql`truncate table ${IDENTITY_TABLES} restart identity`)
    }
    const fixture =
      <Store>(create: (on: ParleyDatabase) => Store) =>
      async () => {
        await reset()
        return { store: create(suite.database), teardown: reset }
      }

    describeTokenStoreBehaviour(target.label, fixture(createPostgresTokenStore))
    describePairingStoreBehaviour(target.label, async () => {
      await reset()
      return {
        createStore: (options) =>
          createPostgresPairingStore(suite.database, { secret: PAIRING_SECRET, ...options }),
        teardown: reset,
      }
    })
    describeDevicePairingStoreBehaviour(target.label, fixture(createPostgresDevicePairingStore))
    describeSessionBindingStoreBehaviour(target.label, fixture(createPostgresSessionBindingStore))
    describeAgentKeyStoreBehaviour(target.label, fixture(createPostgresAgentKeyStore))
    describeDashboardSessionStoreBehaviour(target.label, fixture(createPostgresDashboardSessionStore))

    describe('stored rows', () => {
      it('keeps only the SHA-256 of a token secret, never the secret or its random part', async () => {
        await reset()
        const tokens = createPostgresTokenStore(suite.database)
        const created = await tokens.create({ name: 'ci', role: 'client', scopes: [] }, T0)
        const rows = await suite.database.db.select().from(apiTokens)
        expect(rows).toHaveLength(1)
        const stored = JSON.stringify(rows)
        expect(stored).not.toContain(created.token)
        expect(stored).not.toContain(created.token.slice(-43))
        expect(rows[0]?.secretHash).toBe(createHash('sha256').update(created.token).digest('hex'))
      })

      it('keeps only the SHA-256 of a dashboard session secret, never the secret', async () => {
        await reset()
        const sessions = createPostgresDashboardSessionStore(suite.database)
        const created = await sessions.create({ principal: 'admin', expiresAt: T0 + 1 }, T0)
        const rows = await suite.database.db.select().from(dashboardSessions)
        expect(rows).toHaveLength(1)
        expect(JSON.stringify(rows)).not.toContain(created.secret)
        expect(JSON.stringify(rows)).not.toContain(created.secret.slice(3))
        expect(rows[0]?.secretHash).toBe(createHash('sha256').update(created.secret).digest('hex'))
      })

      it('keeps only an HMAC of a pairing code, never the code', async () => {
        await reset()
        const pairing = createPostgresPairingStore(suite.database, { secret: PAIRING_SECRET })
        const code = await pairing.generateCode('telegram', 'alice', { now: T0 })
        const rows = await suite.database.db.select().from(pairingRequests)
        expect(rows).toHaveLength(1)
        expect(JSON.stringify(rows)).not.toContain(code)
        expect(rows[0]?.codeHash).toMatch(/^[0-9a-f]{64}$/)
      })

      it('finds the same code again with the same secret after a restart of the store', async () => {
        await reset()
        const before = createPostgresPairingStore(suite.database, { secret: PAIRING_SECRET })
        const code = await before.generateCode('telegram', 'alice', { now: T0 })
        const after = createPostgresPairingStore(suite.database, { secret: PAIRING_SECRET })
        expect(await after.generateCode('telegram', 'alice', { now: T0 + 1 })).toBe(code)
        expect((await after.approveCode('telegram', code, { now: T0 + 2 })).ok).toBe(true)
      })
    })

    it('lets exactly one of concurrent approvals from two nodes pair the sender', async () => {
      await reset()
      await suite.withSecondNode(async (second) => {
        const nodeA = createPostgresPairingStore(suite.database, { secret: PAIRING_SECRET })
        const nodeB = createPostgresPairingStore(second, { secret: PAIRING_SECRET })
        const code = await nodeA.generateCode('telegram', 'alice', { now: T0 })
        const [request] = await nodeA.listPending('telegram', T0)
        const resolutions = await Promise.all(
          Array.from({ length: 8 }, (_, index) => {
            const node = index % 2 === 0 ? nodeA : nodeB
            return index % 4 < 2
              ? node.approveCode('telegram', code, {
                  channelId: 'alice',
                  approvedBy: `node-${index}`,
                  now: T0,
                })
              : node.approveRequest(request?.id ?? '', `node-${index}`, T0)
          }),
        )
        expect(resolutions.filter((resolution) => resolution.ok)).toHaveLength(1)
        expect(await nodeB.listPaired()).toHaveLength(1)
      })
    })
  })
}
