import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PairingLimitError, StoreError } from '../errors.js'
import { HOSTILE_NAMES, HOUR, MINUTE, type StoreFixture, T0 } from './identity-fixture.js'
import { PAIRING_CODE_ALPHABET } from './pairing-codes.js'
import type { PairingStore, PairingStoreOptions } from './types.js'

export interface PairingStoreFixture extends Omit<StoreFixture<PairingStore>, 'store'> {
  /** A store with these options over the test's data (on Postgres, stores created in one test share it). */
  createStore(options?: Partial<PairingStoreOptions>): PairingStore
}

export const PAIRING_SECRET = new Uint8Array(32).fill(7)

const CODE = new RegExp(`^[${PAIRING_CODE_ALPHABET}]{8}$`)

/** The behaviour every PairingStore must show; each implementation's test file runs it with its own fixture. */
export function describePairingStoreBehaviour(
  label: string,
  setup: () => Promise<PairingStoreFixture>,
): void {
  describe(`PairingStore behaviour: ${label}`, () => {
    let fixture: PairingStoreFixture
    let pairing: PairingStore

    beforeEach(async () => {
      fixture = await setup()
      pairing = fixture.createStore()
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    /** A code that is not `code` (the same characters rotated). */
    const otherCode = (code: string) => `${code.slice(1)}${code.charAt(0)}`

    it('gives a new sender an 8-character code from the unambiguous alphabet, the same one on a repeat', async () => {
      const code = await pairing.generateCode('telegram', 'alice', { displayName: 'Alice', now: T0 })
      expect(code).toMatch(CODE)
      expect(code).not.toMatch(/[01OIL]/)
      expect(await pairing.generateCode('telegram', 'alice', { now: T0 + MINUTE })).toBe(code)
      const pending = await pairing.listPending('telegram', T0 + MINUTE)
      expect(pending).toEqual([
        {
          id: expect.stringMatching(/^pair_/),
          channelType: 'telegram',
          channelId: 'alice',
          displayName: 'Alice',
          createdAt: T0,
          expiresAt: T0 + HOUR,
          failedAttempts: 0,
          locked: false,
        },
      ])
    })

    it('gives different senders, and one sender on different channel types, different requests and codes', async () => {
      const alice = await pairing.generateCode('telegram', 'alice', { now: T0 })
      const bob = await pairing.generateCode('telegram', 'bob', { now: T0 + 1 })
      const aliceOnSlack = await pairing.generateCode('slack', 'alice', { now: T0 + 2 })
      expect(new Set([alice, bob, aliceOnSlack]).size).toBe(3)
      expect((await pairing.listPending(undefined, T0 + 3)).map((request) => request.channelId)).toEqual([
        'alice',
        'bob',
        'alice',
      ])
      expect((await pairing.listPending('slack', T0 + 3)).map((request) => request.channelType)).toEqual([
        'slack',
      ])
    })

    it('pairs the sender who asked, not the code or the approver, and removes the request', async () => {
      const code = await pairing.generateCode('telegram', 'alice', { displayName: 'Alice', now: T0 })
      const [request] = await pairing.listPending('telegram', T0)
      const resolution = await pairing.approveCode('telegram', code, {
        approvedBy: 'admin-token',
        now: T0 + 5,
      })
      expect(resolution).toEqual({
        ok: true,
        requestId: request?.id,
        paired: {
          channelType: 'telegram',
          channelId: 'alice',
          displayName: 'Alice',
          pairedAt: T0 + 5,
          approvedBy: 'admin-token',
        },
      })
      expect(await pairing.isPaired('alice', 'telegram')).toBe(true)
      expect(await pairing.isPaired(code, 'telegram')).toBe(false)
      expect(await pairing.isPaired('admin-token', 'telegram')).toBe(false)
      expect(await pairing.isPaired('alice', 'slack')).toBe(false)
      expect(await pairing.listPending(undefined, T0 + 5)).toEqual([])
      expect(await pairing.listPaired()).toEqual([resolution.ok && resolution.paired])
      expect(await pairing.approveCode('telegram', code, { now: T0 + 6 })).toEqual({
        ok: false,
        reason: 'not_found',
      })
    })

    it('approve() resolves true and pairs the sender, accepting the code in any case and with dashes', async () => {
      // approve() has no clock parameter: it runs on the real clock.
      const code = await pairing.generateCode('discord', 'carol')
      const typed = `${code.slice(0, 4).toLowerCase()}-${code.slice(4)}`
      expect(await pairing.approve('discord', typed, 'carol', 'Carol C.')).toBe(true)
      expect(await pairing.isPaired('carol', 'discord')).toBe(true)
      expect((await pairing.listPaired())[0]?.displayName).toBe('Carol C.')
      expect(await pairing.approve('discord', code, 'carol')).toBe(false)
    })

    it('with a user id, approves only that sender: another sender cannot use a code issued to someone else', async () => {
      const aliceCode = await pairing.generateCode('telegram', 'alice')
      await pairing.generateCode('telegram', 'mallory')
      expect(await pairing.approve('telegram', aliceCode, 'mallory')).toBe(false)
      expect(await pairing.approve('telegram', aliceCode, 'nobody')).toBe(false)
      expect(await pairing.isPaired('mallory', 'telegram')).toBe(false)
      expect(await pairing.isPaired('alice', 'telegram')).toBe(false)
      const pending = await pairing.listPending('telegram')
      expect(pending.find((request) => request.channelId === 'mallory')?.failedAttempts).toBe(1)
      expect(pending.find((request) => request.channelId === 'alice')?.failedAttempts).toBe(0)
      expect(await pairing.approve('telegram', aliceCode, 'alice')).toBe(true)
    })

    it('locks a request after the wrong-code limit, refusing even the right code, while approveRequest still pairs', async () => {
      const code = await pairing.generateCode('telegram', 'alice', { now: T0 })
      const wrong = otherCode(code)
      expect(wrong).not.toBe(code)
      for (let attempt = 1; attempt <= 5; attempt += 1) {
        expect(
          await pairing.approveCode('telegram', wrong, { channelId: 'alice', now: T0 + attempt }),
        ).toEqual({
          ok: false,
          reason: 'wrong_code',
        })
      }
      const [locked] = await pairing.listPending('telegram', T0 + 10)
      expect(locked).toMatchObject({ failedAttempts: 5, locked: true })
      expect(await pairing.approveCode('telegram', code, { channelId: 'alice', now: T0 + 11 })).toEqual({
        ok: false,
        reason: 'locked',
      })
      expect(await pairing.approveCode('telegram', code, { now: T0 + 11 })).toEqual({
        ok: false,
        reason: 'locked',
      })
      expect(await pairing.isPaired('alice', 'telegram')).toBe(false)
      expect((await pairing.listPending('telegram', T0 + 12))[0]?.failedAttempts).toBe(5)
      const approved = await pairing.approveRequest(locked?.id ?? '', 'operator', T0 + 12)
      expect(approved).toMatchObject({ ok: true, paired: { channelId: 'alice', approvedBy: 'operator' } })
      expect(await pairing.isPaired('alice', 'telegram')).toBe(true)
    })

    it('honours maxFailedAttempts', async () => {
      const strict = fixture.createStore({ maxFailedAttempts: 2 })
      const code = await strict.generateCode('telegram', 'alice', { now: T0 })
      await strict.approveCode('telegram', otherCode(code), { channelId: 'alice', now: T0 })
      expect((await strict.listPending('telegram', T0))[0]?.locked).toBe(false)
      await strict.approveCode('telegram', otherCode(code), { channelId: 'alice', now: T0 })
      expect((await strict.listPending('telegram', T0))[0]?.locked).toBe(true)
    })

    it('a wrong code without a sender locks nobody', async () => {
      const code = await pairing.generateCode('telegram', 'alice', { now: T0 })
      for (let attempt = 0; attempt < 10; attempt += 1) {
        expect(await pairing.approveCode('telegram', otherCode(code), { now: T0 })).toEqual({
          ok: false,
          reason: 'not_found',
        })
      }
      expect((await pairing.listPending('telegram', T0))[0]).toMatchObject({
        failedAttempts: 0,
        locked: false,
      })
      expect((await pairing.approveCode('telegram', code, { now: T0 })).ok).toBe(true)
    })

    it('keeps codes apart per channel type', async () => {
      const code = await pairing.generateCode('telegram', 'alice', { now: T0 })
      expect(await pairing.approveCode('slack', code, { now: T0 })).toEqual({
        ok: false,
        reason: 'not_found',
      })
      expect(await pairing.isPaired('alice', 'slack')).toBe(false)
    })

    it('caps pending requests per channel type with PairingLimitError', async () => {
      const capped = fixture.createStore({ maxPendingPerChannelType: 3 })
      const codes = []
      for (const sender of ['a', 'b', 'c'])
        codes.push(await capped.generateCode('telegram', sender, { now: T0 }))
      const error = await capped.generateCode('telegram', 'd', { now: T0 }).catch((reason: unknown) => reason)
      expect(error).toBeInstanceOf(PairingLimitError)
      expect(error).toMatchObject({ code: 'rate_limited', channelType: 'telegram', limit: 3 })
      // A sender who already asked still gets the code; other channel types have their own cap.
      expect(await capped.generateCode('telegram', 'a', { now: T0 })).toBe(codes[0])
      expect(await capped.generateCode('slack', 'd', { now: T0 })).toMatch(CODE)
      const [first] = await capped.listPending('telegram', T0)
      await capped.deny(first?.id ?? '')
      expect(await capped.generateCode('telegram', 'd', { now: T0 })).toMatch(CODE)
      // Expired requests do not count.
      expect(await capped.generateCode('telegram', 'e', { now: T0 + HOUR })).toMatch(CODE)
    })

    it('expires a code after its TTL: refused, not listed, and a new request with a new code on asking again', async () => {
      const code = await pairing.generateCode('telegram', 'alice', { now: T0 })
      expect(await pairing.listPending('telegram', T0 + HOUR - 1)).toHaveLength(1)
      expect(await pairing.listPending('telegram', T0 + HOUR)).toEqual([])
      expect(await pairing.approveCode('telegram', code, { now: T0 + HOUR })).toEqual({
        ok: false,
        reason: 'expired',
      })
      const [expired] = await pairing.listPending('telegram', T0)
      expect(await pairing.approveRequest(expired?.id ?? '', 'operator', T0 + HOUR)).toEqual({
        ok: false,
        reason: 'expired',
      })
      const renewed = await pairing.generateCode('telegram', 'alice', { now: T0 + HOUR })
      expect(renewed).not.toBe(code)
      const [request] = await pairing.listPending('telegram', T0 + HOUR)
      expect(request).toMatchObject({ createdAt: T0 + HOUR, expiresAt: T0 + 2 * HOUR })
      expect((await pairing.approveCode('telegram', code, { now: T0 + HOUR })).ok).toBe(false)
      expect((await pairing.approveCode('telegram', renewed, { now: T0 + HOUR })).ok).toBe(true)
    })

    it('honours codeTtlMs', async () => {
      const short = fixture.createStore({ codeTtlMs: MINUTE })
      await short.generateCode('telegram', 'alice', { now: T0 })
      expect((await short.listPending('telegram', T0))[0]?.expiresAt).toBe(T0 + MINUTE)
      expect(await short.listPending('telegram', T0 + MINUTE)).toEqual([])
    })

    it('deny removes the request and resolves it; its code is then unknown', async () => {
      const code = await pairing.generateCode('telegram', 'alice', { displayName: 'Alice', now: T0 })
      const [request] = await pairing.listPending('telegram', T0)
      expect(await pairing.deny(request?.id ?? '')).toEqual(request)
      expect(await pairing.deny(request?.id ?? '')).toBeUndefined()
      expect(await pairing.listPending('telegram', T0)).toEqual([])
      expect(await pairing.approveCode('telegram', code, { now: T0 })).toEqual({
        ok: false,
        reason: 'not_found',
      })
      expect(await pairing.approveRequest(request?.id ?? '', 'operator', T0)).toEqual({
        ok: false,
        reason: 'not_found',
      })
      expect(await pairing.isPaired('alice', 'telegram')).toBe(false)
    })

    it('lets exactly one of several concurrent approvals of a request succeed', async () => {
      // approve() runs on the real clock, so this test does too.
      const code = await pairing.generateCode('telegram', 'alice')
      const [request] = await pairing.listPending('telegram')
      const resolutions = await Promise.all([
        pairing.approveCode('telegram', code, { approvedBy: 'one' }),
        pairing.approveCode('telegram', code, { channelId: 'alice', approvedBy: 'two' }),
        pairing.approveRequest(request?.id ?? '', 'three'),
        pairing.approveRequest(request?.id ?? '', 'four'),
        pairing.approve('telegram', code, 'alice'),
        pairing.approve('telegram', code),
      ])
      const successes = resolutions.filter((resolution) =>
        typeof resolution === 'boolean' ? resolution : resolution.ok,
      )
      expect(successes).toHaveLength(1)
      expect(await pairing.listPaired()).toHaveLength(1)
      expect(await pairing.listPending('telegram')).toEqual([])
    })

    it('gives concurrent requests of one sender one request and one code', async () => {
      const codes = await Promise.all(
        Array.from({ length: 10 }, () => pairing.generateCode('telegram', 'alice', { now: T0 })),
      )
      expect(new Set(codes).size).toBe(1)
      expect(await pairing.listPending('telegram', T0)).toHaveLength(1)
    })

    it('holds the pending cap under concurrent requests of new senders', async () => {
      const capped = fixture.createStore({ maxPendingPerChannelType: 5 })
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, index) =>
          capped.generateCode('telegram', `sender-${index}`, { now: T0 }),
        ),
      )
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(5)
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(PairingLimitError)
      }
      expect(await capped.listPending('telegram', T0)).toHaveLength(5)
    })

    it('revoke unpairs a sender, who can then pair again', async () => {
      const code = await pairing.generateCode('telegram', 'alice', { now: T0 })
      await pairing.approveCode('telegram', code, { now: T0 })
      expect(await pairing.revoke('alice', 'telegram')).toBe(true)
      expect(await pairing.revoke('alice', 'telegram')).toBe(false)
      expect(await pairing.isPaired('alice', 'telegram')).toBe(false)
      expect(await pairing.listPaired()).toEqual([])
      const again = await pairing.generateCode('telegram', 'alice', { now: T0 + 1 })
      expect((await pairing.approveCode('telegram', again, { now: T0 + 1 })).ok).toBe(true)
      expect(await pairing.isPaired('alice', 'telegram')).toBe(true)
    })

    it('stores sender ids, display names and channel types that look like HTML or SQL verbatim', async () => {
      for (const [index, name] of HOSTILE_NAMES.entries()) {
        const code = await pairing.generateCode(name, name, { displayName: name, now: T0 + index })
        expect((await pairing.listPending(name, T0 + index))[0]).toMatchObject({
          channelType: name,
          channelId: name,
          displayName: name,
        })
        expect(
          (await pairing.approveCode(name, code, { channelId: name, approvedBy: name, now: T0 + index })).ok,
        ).toBe(true)
        expect(await pairing.isPaired(name, name)).toBe(true)
      }
      expect(await pairing.listPaired()).toEqual(
        HOSTILE_NAMES.map((name, index) => ({
          channelType: name,
          channelId: name,
          displayName: name,
          approvedBy: name,
          pairedAt: T0 + index,
        })),
      )
    })

    it('refuses a request without a sender, and a secret shorter than 32 bytes', async () => {
      await expect(pairing.generateCode('telegram')).rejects.toBeInstanceOf(StoreError)
      await expect(pairing.generateCode('telegram', '')).rejects.toMatchObject({ code: 'bad_request' })
      expect(() => fixture.createStore({ secret: new Uint8Array(16) })).toThrow(StoreError)
    })
  })
}
