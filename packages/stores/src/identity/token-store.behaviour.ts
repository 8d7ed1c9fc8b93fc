import { timingSafeEqual } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { HOSTILE_NAMES, HOUR, type StoreFixture, T0 } from './identity-fixture.js'
import type { TokenStore } from './types.js'

/**
 * The behaviour every TokenStore must show. The test file must mock `node:crypto` so `timingSafeEqual` is
 * a spy (see memory-identity-stores.test.ts): the suite checks that secrets are compared in constant time.
 */
export function describeTokenStoreBehaviour(
  label: string,
  setup: () => Promise<StoreFixture<TokenStore>>,
): void {
  describe(`TokenStore behaviour: ${label}`, () => {
    let fixture: StoreFixture<TokenStore>
    let tokens: TokenStore

    beforeEach(async () => {
      fixture = await setup()
      tokens = fixture.store
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    const input = { name: 'ci bot', role: 'client' as const, scopes: ['publish:alerts.*', 'subscribe:*'] }

    it('creates a pk_<id>_<random> secret that verifies to its record', async () => {
      const created = await tokens.create({ ...input, subject: 'device-1' }, T0)
      expect(created.record.id).toMatch(/^tok_[A-Za-z0-9_-]{16}$/)
      expect(created.token).toMatch(/^pk_tok_[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}$/)
      expect(created.token.startsWith(`pk_${created.record.id}_`)).toBe(true)
      expect(created.record).toEqual({
        id: created.record.id,
        name: 'ci bot',
        role: 'client',
        scopes: ['publish:alerts.*', 'subscribe:*'],
        subject: 'device-1',
        createdAt: T0,
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
      })
      const verified = await tokens.verify(created.token, T0 + 1)
      expect(verified).toEqual({ ...created.record, lastUsedAt: T0 + 1 })
    })

    it('gives every token its own id and secret', async () => {
      const first = await tokens.create(input, T0)
      const second = await tokens.create(input, T0)
      expect(first.record.id).not.toBe(second.record.id)
      expect(first.token).not.toBe(second.token)
      expect((await tokens.verify(second.token, T0))?.id).toBe(second.record.id)
    })

    it('compares the secret hash with crypto.timingSafeEqual', async () => {
      expect(vi.isMockFunction(timingSafeEqual)).toBe(true)
      const spy = vi.mocked(timingSafeEqual)
      const created = await tokens.create(input, T0)
      spy.mockClear()
      expect(await tokens.verify(created.token, T0)).toBeDefined()
      expect(spy).toHaveBeenCalledTimes(1)
      spy.mockClear()
      const forged = `${created.token.slice(0, -1)}${created.token.endsWith('A') ? 'B' : 'A'}`
      expect(await tokens.verify(forged, T0)).toBeUndefined()
      expect(spy).toHaveBeenCalledTimes(1)
    })

    it('refuses malformed secrets, unknown ids and another token secret under a known id', async () => {
      const created = await tokens.create(input, T0)
      const other = await tokens.create(input, T0)
      const random = created.token.slice(-43)
      const refused = [
        '',
        'pk_',
        'garbage',
        created.token.slice(0, -1),
        `${created.token}x`,
        ` ${created.token}`,
        created.token.replace('pk_', 'sk_'),
        `pk_tok_AAAAAAAAAAAAAAAA_${random}`,
        `pk_${other.record.id}_${random}`,
        `pk_${created.record.id}_${other.token.slice(-43)}`,
      ]
      for (const secret of refused) expect(await tokens.verify(secret, T0), secret).toBeUndefined()
      expect(await tokens.verify(created.token, T0)).toBeDefined()
    })

    it('refuses a revoked token; revoke resolves true once', async () => {
      const created = await tokens.create(input, T0)
      expect(await tokens.revoke(created.record.id, T0 + 5)).toBe(true)
      expect(await tokens.revoke(created.record.id, T0 + 6)).toBe(false)
      expect(await tokens.revoke('tok_unknown', T0 + 6)).toBe(false)
      expect(await tokens.verify(created.token, T0 + 7)).toBeUndefined()
      expect((await tokens.get(created.record.id))?.revokedAt).toBe(T0 + 5)
    })

    it('refuses a token from its expiry on', async () => {
      const created = await tokens.create({ ...input, expiresAt: T0 + HOUR }, T0)
      expect(created.record.expiresAt).toBe(T0 + HOUR)
      expect(await tokens.verify(created.token, T0 + HOUR - 1)).toBeDefined()
      expect(await tokens.verify(created.token, T0 + HOUR)).toBeUndefined()
      expect(await tokens.verify(created.token, T0 + 2 * HOUR)).toBeUndefined()
    })

    it('records lastUsedAt on each successful verify, never on a failed one', async () => {
      const created = await tokens.create(input, T0)
      await tokens.verify(created.token, T0 + 10)
      expect((await tokens.get(created.record.id))?.lastUsedAt).toBe(T0 + 10)
      await tokens.verify(`${created.token.slice(0, -1)}!`, T0 + 20)
      expect((await tokens.get(created.record.id))?.lastUsedAt).toBe(T0 + 10)
      await tokens.verify(created.token, T0 + 30)
      expect((await tokens.get(created.record.id))?.lastUsedAt).toBe(T0 + 30)
    })

    it('lists newest first, revoked ones included, and never returns the secret', async () => {
      const older = await tokens.create({ ...input, name: 'older' }, T0)
      const newer = await tokens.create({ ...input, name: 'newer' }, T0 + 1)
      await tokens.revoke(older.record.id, T0 + 2)
      const listed = await tokens.list()
      expect(listed.map((record) => record.name)).toEqual(['newer', 'older'])
      expect(listed[1]?.revokedAt).toBe(T0 + 2)
      const everything = JSON.stringify([listed, await tokens.get(newer.record.id)])
      expect(everything).not.toContain(older.token.slice(-43))
      expect(everything).not.toContain(newer.token.slice(-43))
      expect(await tokens.get('tok_unknown')).toBeUndefined()
    })

    it('stores names and scopes that look like HTML or SQL verbatim', async () => {
      for (const name of HOSTILE_NAMES) {
        const created = await tokens.create({ name, role: 'agent', scopes: [name] }, T0)
        const stored = await tokens.get(created.record.id)
        expect(stored?.name).toBe(name)
        expect(stored?.scopes).toEqual([name])
      }
      expect(await tokens.list()).toHaveLength(HOSTILE_NAMES.length)
    })
  })
}
