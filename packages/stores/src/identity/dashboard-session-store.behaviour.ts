import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LAST_SEEN_RESOLUTION_MS } from './dashboard-session-secrets.js'
import { HOSTILE_NAMES, HOUR, MINUTE, type StoreFixture, T0 } from './identity-fixture.js'
import type { DashboardSessionStore } from './types.js'

/** The behaviour every DashboardSessionStore must show. */
export function describeDashboardSessionStoreBehaviour(
  label: string,
  setup: () => Promise<StoreFixture<DashboardSessionStore>>,
): void {
  describe(`DashboardSessionStore behaviour: ${label}`, () => {
    let fixture: StoreFixture<DashboardSessionStore>
    let sessions: DashboardSessionStore

    beforeEach(async () => {
      fixture = await setup()
      sessions = fixture.store
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    const input = {
      principal: 'admin',
      expiresAt: T0 + 12 * HOUR,
      userAgent: 'Mozilla/5.0 test',
      address: '203.0.113.7',
    }

    it('opens a session with a ps_<random> secret and a separate public id, and verifies the secret', async () => {
      const created = await sessions.create(input, T0)
      expect(created.secret).toMatch(/^ps_[A-Za-z0-9_-]{43}$/)
      expect(created.record).toEqual({
        id: expect.stringMatching(/^ses_[A-Za-z0-9_-]{16}$/),
        principal: 'admin',
        credentialId: null,
        createdAt: T0,
        lastSeenAt: T0,
        expiresAt: T0 + 12 * HOUR,
        revokedAt: null,
        userAgent: 'Mozilla/5.0 test',
        address: '203.0.113.7',
      })
      expect(created.secret).not.toContain(created.record.id.slice(4))
      expect(await sessions.verify(created.secret, T0 + 1)).toEqual(created.record)
    })

    it('refuses unknown, malformed and near-miss secrets', async () => {
      const created = await sessions.create(input, T0)
      const nearMiss = `${created.secret.slice(0, -1)}${created.secret.endsWith('A') ? 'B' : 'A'}`
      for (const secret of ['', 'ps_', 'garbage', created.record.id, nearMiss, `${created.secret}x`]) {
        expect(await sessions.verify(secret, T0)).toBeUndefined()
      }
    })

    it('ends a session at its expiry', async () => {
      const created = await sessions.create(input, T0)
      expect(await sessions.verify(created.secret, input.expiresAt - 1)).toBeDefined()
      expect(await sessions.verify(created.secret, input.expiresAt)).toBeUndefined()
      expect(await sessions.listLive(input.expiresAt)).toEqual([])
    })

    it('moves lastSeenAt when used, at most once per resolution step', async () => {
      const created = await sessions.create(input, T0)
      expect((await sessions.verify(created.secret, T0 + 1_000))?.lastSeenAt).toBe(T0)
      const later = T0 + LAST_SEEN_RESOLUTION_MS + 5
      expect((await sessions.verify(created.secret, later))?.lastSeenAt).toBe(later)
      const [listed] = await sessions.listLive(later + 1)
      expect(listed?.lastSeenAt).toBe(later)
    })

    it('revokes one session by its public id; the secret stops working and a second revoke is a no-op', async () => {
      const first = await sessions.create(input, T0)
      const second = await sessions.create(input, T0 + 1)
      expect(await sessions.revoke(first.record.id, T0 + 2)).toBe(true)
      expect(await sessions.revoke(first.record.id, T0 + 3)).toBe(false)
      expect(await sessions.revoke('ses_unknown', T0 + 3)).toBe(false)
      expect(await sessions.verify(first.secret, T0 + 4)).toBeUndefined()
      expect(await sessions.verify(second.secret, T0 + 4)).toBeDefined()
      expect((await sessions.listLive(T0 + 4)).map((session) => session.id)).toEqual([second.record.id])
    })

    it('lists live sessions newest first and revokes them all at once', async () => {
      const created = []
      for (let i = 0; i < 3; i++) created.push(await sessions.create(input, T0 + i * MINUTE))
      expect((await sessions.listLive(T0 + HOUR)).map((session) => session.id)).toEqual(
        created.map((session) => session.record.id).reverse(),
      )
      expect(await sessions.revokeAll(T0 + HOUR)).toBe(3)
      expect(await sessions.revokeAll(T0 + HOUR)).toBe(0)
      for (const session of created) expect(await sessions.verify(session.secret, T0 + HOUR)).toBeUndefined()
    })

    it('revokes the sessions opened with an API token, and only those', async () => {
      const viaToken = await sessions.create({ ...input, principal: 'tok_a', credentialId: 'tok_a' }, T0)
      const viaAdmin = await sessions.create(input, T0)
      expect(await sessions.revokeByCredential('tok_a', T0 + 1)).toBe(1)
      expect(await sessions.verify(viaToken.secret, T0 + 2)).toBeUndefined()
      expect(await sessions.verify(viaAdmin.secret, T0 + 2)).toBeDefined()
    })

    it('prunes sessions that ended before a time, keeping live ones', async () => {
      const expired = await sessions.create({ ...input, expiresAt: T0 + MINUTE }, T0)
      const revoked = await sessions.create(input, T0)
      const live = await sessions.create(input, T0)
      await sessions.revoke(revoked.record.id, T0 + MINUTE)
      expect(await sessions.prune(T0 + 2 * MINUTE)).toBe(2)
      expect(await sessions.verify(live.secret, T0 + 2 * MINUTE)).toBeDefined()
      expect(await sessions.verify(expired.secret, T0)).toBeUndefined()
    })

    it('stores hostile user agents as data', async () => {
      for (const userAgent of HOSTILE_NAMES) {
        const created = await sessions.create({ ...input, userAgent }, T0)
        expect((await sessions.verify(created.secret, T0))?.userAgent).toBe(userAgent)
      }
    })
  })
}
