import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidGrantError } from '../errors.js'
import { HOSTILE_NAMES, T0 } from '../identity/identity-fixture.js'
import type { CreateGrantInput, GrantStore } from './types.js'

export interface GrantStoreFixture {
  /** A store on the fixture's (empty) storage; several calls share that storage. */
  createStore(): GrantStore
  teardown(): Promise<void>
}

const PLANNER_TO_BILLING: CreateGrantInput = {
  from: { principal: 'planner-key', clientId: 'planner', agentId: 'planner' },
  to: { principal: 'billing-key', clientId: 'billing-1', agentId: 'billing' },
  reason: 'need invoices for Q3',
}

/** The behaviour every GrantStore must show. */
export function describeGrantStoreBehaviour(label: string, setup: () => Promise<GrantStoreFixture>): void {
  describe(`GrantStore behaviour: ${label}`, () => {
    let fixture: GrantStoreFixture
    let grants: GrantStore

    beforeEach(async () => {
      fixture = await setup()
      grants = fixture.createStore()
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    it('starts empty at version 0', async () => {
      expect(await grants.list({ includeRevoked: true })).toEqual([])
      expect(await grants.version()).toBe(0)
      expect(await grants.liveBetween('planner', 'billing')).toBeUndefined()
    })

    it('creates a grant with a generated id and returns it from get, list and liveBetween', async () => {
      const grant = await grants.create(PLANNER_TO_BILLING, T0)
      expect(grant).toEqual({
        id: expect.stringMatching(/^grt_[A-Za-z0-9_-]{16}$/),
        from: { principal: 'planner-key', clientId: 'planner', agentId: 'planner' },
        to: { principal: 'billing-key', clientId: 'billing-1', agentId: 'billing' },
        reason: 'need invoices for Q3',
        createdAt: T0,
        revokedAt: null,
        revokedBy: null,
      })
      expect(await grants.get(grant.id)).toEqual(grant)
      expect(await grants.get('grt_missing')).toBeUndefined()
      expect(await grants.list()).toEqual([grant])
      expect(await grants.version()).toBe(1)
    })

    it('links agent ids (client ids for parties without one) in both directions', async () => {
      const agents = await grants.create(PLANNER_TO_BILLING, T0)
      expect(await grants.liveBetween('planner', 'billing')).toEqual(agents)
      expect(await grants.liveBetween('billing', 'planner')).toEqual(agents)
      // The agent's client id is not its key.
      expect(await grants.liveBetween('planner', 'billing-1')).toBeUndefined()
      const client = await grants.create(
        { from: { principal: 'alice', clientId: 'web-1' }, to: PLANNER_TO_BILLING.to },
        T0 + 1,
      )
      expect(client.from).toEqual({ principal: 'alice', clientId: 'web-1' })
      expect(client.reason).toBeNull()
      expect(await grants.liveBetween('billing', 'web-1')).toEqual(client)
      expect(await grants.liveBetween('web-1', 'planner')).toBeUndefined()
    })

    it('revokes once: a second revoke keeps the first time and author, and unknown ids answer undefined', async () => {
      const grant = await grants.create(PLANNER_TO_BILLING, T0)
      const revoked = await grants.revoke(grant.id, 'admin', T0 + 10)
      expect(revoked).toEqual({ ...grant, revokedAt: T0 + 10, revokedBy: 'admin' })
      expect(await grants.version()).toBe(2)
      expect(await grants.revoke(grant.id, 'someone-else', T0 + 20)).toEqual(revoked)
      expect(await grants.version()).toBe(2)
      expect(await grants.revoke('grt_missing', 'admin', T0)).toBeUndefined()
      expect(await grants.liveBetween('planner', 'billing')).toBeUndefined()
      expect(await grants.get(grant.id)).toEqual(revoked)
    })

    it('lists live grants newest first, and revoked ones too with includeRevoked', async () => {
      const first = await grants.create(PLANNER_TO_BILLING, T0)
      const second = await grants.create({ ...PLANNER_TO_BILLING, reason: 'again' }, T0 + 1)
      const third = await grants.create({ ...PLANNER_TO_BILLING, reason: 'third' }, T0 + 2)
      const revoked = await grants.revoke(second.id, 'admin', T0 + 3)
      expect((await grants.list()).map((grant) => grant.id)).toEqual([third.id, first.id])
      expect(await grants.list({ includeRevoked: true })).toEqual([third, revoked, first])
      // Several live grants between the same keys: the newest is the one reported.
      expect((await grants.liveBetween('billing', 'planner'))?.id).toBe(third.id)
    })

    it('refuses malformed parties and reasons with InvalidGrantError naming the field, and stores nothing', async () => {
      const bad: [string, CreateGrantInput][] = [
        ['from', { ...PLANNER_TO_BILLING, from: null as unknown as CreateGrantInput['from'] }],
        ['from.principal', { ...PLANNER_TO_BILLING, from: { principal: '', clientId: 'x' } }],
        ['to.clientId', { ...PLANNER_TO_BILLING, to: { principal: 'x', clientId: 'a\u0000b' } }],
        ['to.agentId', { ...PLANNER_TO_BILLING, to: { principal: 'x', clientId: 'y', agentId: '' } }],
        ['reason', { ...PLANNER_TO_BILLING, reason: 'r'.repeat(1_001) }],
      ]
      for (const [field, input] of bad) {
        const error = await grants.create(input, T0).catch((caught: unknown) => caught)
        expect(error, field).toBeInstanceOf(InvalidGrantError)
        expect(error, field).toMatchObject({ code: 'bad_request', field })
      }
      expect(await grants.list({ includeRevoked: true })).toEqual([])
      expect(await grants.version()).toBe(0)
    })

    it('shares grants and version between store instances on the same storage', async () => {
      const grant = await grants.create(PLANNER_TO_BILLING, T0)
      const other = fixture.createStore()
      expect(await other.liveBetween('planner', 'billing')).toEqual(grant)
      await other.revoke(grant.id, 'admin', T0 + 1)
      expect(await grants.version()).toBe(2)
      expect(await grants.list()).toEqual([])
    })

    it('stores parties and reasons that look like HTML or SQL verbatim', async () => {
      for (const text of HOSTILE_NAMES) {
        const grant = await grants.create(
          {
            from: { principal: text, clientId: text, agentId: text },
            to: { principal: 'b', clientId: 'b' },
            reason: text,
          },
          T0,
        )
        expect(await grants.get(grant.id)).toEqual(grant)
        expect(await grants.liveBetween('b', text)).toMatchObject({ reason: text, from: { clientId: text } })
      }
    })
  })
}
