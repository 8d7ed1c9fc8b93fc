import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SessionBindingConflictError } from '../errors.js'
import { HOSTILE_NAMES, type StoreFixture } from './identity-fixture.js'
import type { SessionBindingStore, SessionPrincipal } from './types.js'

/** The behaviour every SessionBindingStore must show. */
export function describeSessionBindingStoreBehaviour(
  label: string,
  setup: () => Promise<StoreFixture<SessionBindingStore>>,
): void {
  describe(`SessionBindingStore behaviour: ${label}`, () => {
    let fixture: StoreFixture<SessionBindingStore>
    let sessions: SessionBindingStore

    beforeEach(async () => {
      fixture = await setup()
      sessions = fixture.store
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    const agent: SessionPrincipal = {
      principal: 'did:key:z6MkAgent',
      role: 'agent',
      metadata: { name: 'planner', tags: ['a', 'b'], nested: { depth: 2 } },
    }

    it('returns the bound principal, and undefined for an unknown session', async () => {
      expect(await sessions.lookup('session-1')).toBeUndefined()
      await sessions.bind('session-1', agent)
      expect(await sessions.lookup('session-1')).toEqual(agent)
      await sessions.bind('session-2', { principal: 'anonymous', role: 'client' })
      expect(await sessions.lookup('session-2')).toEqual({ principal: 'anonymous', role: 'client' })
    })

    it('treats binding a session again to the same principal as a no-op that keeps the first binding', async () => {
      await sessions.bind('session-1', agent)
      await sessions.bind('session-1', { ...agent, metadata: { other: true } })
      expect(await sessions.lookup('session-1')).toEqual(agent)
    })

    it('refuses to rebind a session to another principal or role with SessionBindingConflictError', async () => {
      await sessions.bind('session-1', agent)
      const otherPrincipal = await sessions
        .bind('session-1', { principal: 'tok_intruder', role: 'agent' })
        .catch((error: unknown) => error)
      expect(otherPrincipal).toBeInstanceOf(SessionBindingConflictError)
      expect(otherPrincipal).toMatchObject({ code: 'conflict', sessionId: 'session-1' })
      await expect(sessions.bind('session-1', { ...agent, role: 'admin' })).rejects.toBeInstanceOf(
        SessionBindingConflictError,
      )
      expect(await sessions.lookup('session-1')).toEqual(agent)
    })

    it('lets exactly one of concurrent binds of a session to different principals win', async () => {
      const principals = ['p1', 'p2', 'p3', 'p4'].map((principal) => ({ principal, role: 'client' as const }))
      const outcomes = await Promise.allSettled(
        principals.map((principal) => sessions.bind('contested', principal)),
      )
      const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled')
      expect(winners).toHaveLength(1)
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(SessionBindingConflictError)
      }
      const bound = await sessions.lookup('contested')
      expect(principals.map((principal) => principal.principal)).toContain(bound?.principal)
    })

    it('stores session ids, principals and metadata that look like HTML or SQL verbatim', async () => {
      for (const name of HOSTILE_NAMES) {
        const principal: SessionPrincipal = { principal: name, role: 'client', metadata: { name } }
        await sessions.bind(name, principal)
        expect(await sessions.lookup(name)).toEqual(principal)
      }
    })
  })
}
