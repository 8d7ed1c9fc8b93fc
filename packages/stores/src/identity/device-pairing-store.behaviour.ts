import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HOSTILE_NAMES, MINUTE, type StoreFixture, T0 } from './identity-fixture.js'
import type { DevicePairingStore } from './types.js'

/** The behaviour every DevicePairingStore must show. */
export function describeDevicePairingStoreBehaviour(
  label: string,
  setup: () => Promise<StoreFixture<DevicePairingStore>>,
): void {
  describe(`DevicePairingStore behaviour: ${label}`, () => {
    let fixture: StoreFixture<DevicePairingStore>
    let devices: DevicePairingStore

    beforeEach(async () => {
      fixture = await setup()
      devices = fixture.store
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    it('creates a pending request that expires after 5 minutes by default', async () => {
      const request = await devices.request(
        { deviceName: 'laptop', platform: 'linux', remoteAddress: '10.0.0.2' },
        T0,
      )
      expect(request).toEqual({
        id: expect.stringMatching(/^dev_/),
        deviceName: 'laptop',
        platform: 'linux',
        remoteAddress: '10.0.0.2',
        createdAt: T0,
        expiresAt: T0 + 5 * MINUTE,
        status: 'pending',
        tokenId: null,
        identity: null,
        publicKey: null,
      })
      expect(await devices.get(request.id, T0 + 5 * MINUTE - 1)).toEqual(request)
      expect((await devices.get(request.id, T0 + 5 * MINUTE))?.status).toBe('expired')
      expect(await devices.get('dev_unknown', T0)).toBeUndefined()
    })

    it('honours ttlMs and defaults platform and address to null', async () => {
      const request = await devices.request({ deviceName: 'phone', ttlMs: MINUTE }, T0)
      expect(request).toMatchObject({ platform: null, remoteAddress: null, expiresAt: T0 + MINUTE })
    })

    it('keeps the identity and public key a request carries, through approval', async () => {
      const identity = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'
      const publicKey = 'Pa8MhtrDPvrS-7vh97mnqr4E6OI0eDvjOBw-qEDY9hg'
      const request = await devices.request({ deviceName: 'agent', identity, publicKey }, T0)
      expect(request).toMatchObject({ identity, publicKey })
      expect(await devices.get(request.id, T0 + 1)).toMatchObject({ identity, publicKey })
      expect((await devices.listPending(T0 + 1))[0]).toMatchObject({ identity, publicKey })
      expect(await devices.approve(request.id, 'tok_issued', T0 + 2)).toMatchObject({
        status: 'approved',
        identity,
        publicKey,
      })
    })

    it('approves a pending request once, with the issued token id', async () => {
      const request = await devices.request({ deviceName: 'laptop' }, T0)
      const approved = await devices.approve(request.id, 'tok_issued', T0 + 1)
      expect(approved).toEqual({ ...request, status: 'approved', tokenId: 'tok_issued' })
      expect(await devices.get(request.id, T0 + 10 * MINUTE)).toEqual(approved)
      expect(await devices.approve(request.id, 'tok_other', T0 + 2)).toBeUndefined()
      expect(await devices.deny(request.id, T0 + 2)).toBeUndefined()
      expect((await devices.get(request.id, T0 + 3))?.tokenId).toBe('tok_issued')
      expect(await devices.approve('dev_unknown', 'tok_issued', T0)).toBeUndefined()
    })

    it('denies a pending request once; a denied one cannot be approved', async () => {
      const request = await devices.request({ deviceName: 'laptop' }, T0)
      expect(await devices.deny(request.id, T0 + 1)).toEqual({ ...request, status: 'denied' })
      expect(await devices.approve(request.id, 'tok_issued', T0 + 2)).toBeUndefined()
      expect(await devices.deny(request.id, T0 + 2)).toBeUndefined()
      expect((await devices.get(request.id, T0 + 3))?.status).toBe('denied')
    })

    it('refuses to approve or deny an expired request', async () => {
      const request = await devices.request({ deviceName: 'laptop' }, T0)
      expect(await devices.approve(request.id, 'tok_issued', T0 + 5 * MINUTE)).toBeUndefined()
      expect(await devices.deny(request.id, T0 + 5 * MINUTE)).toBeUndefined()
      expect(await devices.get(request.id, T0 + 5 * MINUTE)).toMatchObject({
        status: 'expired',
        tokenId: null,
      })
    })

    it('lists pending, unexpired requests oldest first', async () => {
      const old = await devices.request({ deviceName: 'old', ttlMs: MINUTE }, T0)
      const first = await devices.request({ deviceName: 'first' }, T0 + 1)
      const second = await devices.request({ deviceName: 'second' }, T0 + 2)
      const decided = await devices.request({ deviceName: 'decided' }, T0 + 3)
      await devices.deny(decided.id, T0 + 4)
      expect((await devices.listPending(T0 + 5)).map((request) => request.id)).toEqual([
        old.id,
        first.id,
        second.id,
      ])
      expect((await devices.listPending(T0 + MINUTE)).map((request) => request.id)).toEqual([
        first.id,
        second.id,
      ])
    })

    it('lets exactly one of concurrent approvals and denials decide a request', async () => {
      const request = await devices.request({ deviceName: 'laptop' }, T0)
      const decisions = await Promise.all([
        devices.approve(request.id, 'tok_a', T0 + 1),
        devices.deny(request.id, T0 + 1),
        devices.approve(request.id, 'tok_b', T0 + 1),
        devices.deny(request.id, T0 + 1),
      ])
      const made = decisions.filter((decision) => decision !== undefined)
      expect(made).toHaveLength(1)
      expect(await devices.get(request.id, T0 + 2)).toEqual(made[0])
    })

    it('stores device names that look like HTML or SQL verbatim', async () => {
      for (const name of HOSTILE_NAMES) {
        const request = await devices.request({ deviceName: name, platform: name, remoteAddress: name }, T0)
        expect(await devices.get(request.id, T0)).toMatchObject({
          deviceName: name,
          platform: name,
          remoteAddress: name,
        })
      }
    })
  })
}
