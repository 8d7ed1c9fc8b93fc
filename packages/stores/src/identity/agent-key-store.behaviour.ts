import { generateKeyPairSync } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidAgentKeyError } from '../errors.js'
import { didKeyFromPublicKey } from './did-key.js'
import { HOSTILE_NAMES, type StoreFixture, T0 } from './identity-fixture.js'
import type { AgentKeyStore } from './types.js'

/** A fresh Ed25519 key: its raw public key in base64url (the JWK `x`) and its did:key. */
export function agentKey(): { id: string; publicKey: string } {
  const { publicKey } = generateKeyPairSync('ed25519')
  const x = publicKey.export({ format: 'jwk' }).x
  if (x === undefined) throw new Error('no x in the Ed25519 JWK')
  return { id: didKeyFromPublicKey(Buffer.from(x, 'base64url')), publicKey: x }
}

/** base58btc decoded with BigInt: an independent check of the encoder. */
function base58Decode(text: string): Uint8Array {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  let value = 0n
  for (const character of text) value = value * 58n + BigInt(alphabet.indexOf(character))
  const hex = value.toString(16)
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex')
}

/** The behaviour every AgentKeyStore must show. */
export function describeAgentKeyStoreBehaviour(
  label: string,
  setup: () => Promise<StoreFixture<AgentKeyStore>>,
): void {
  describe(`AgentKeyStore behaviour: ${label}`, () => {
    let fixture: StoreFixture<AgentKeyStore>
    let keys: AgentKeyStore

    beforeEach(async () => {
      fixture = await setup()
      keys = fixture.store
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    it('derives did:key:z6Mk… as base58btc of 0xed 0x01 and the raw key', () => {
      const key = agentKey()
      expect(key.id).toMatch(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/)
      expect(Buffer.from(base58Decode(key.id.slice('did:key:z'.length))).toString('hex')).toBe(
        `ed01${Buffer.from(key.publicKey, 'base64url').toString('hex')}`,
      )
      expect(didKeyFromPublicKey(new Uint8Array(32))).toBe(
        'did:key:z6MkeTG3bFFSLYVU7VqhgZxqr6YzpaGrQtFMh1uvqGy1vDnP',
      )
    })

    it('registers a key under its did with role agent and no scopes by default', async () => {
      const key = agentKey()
      const registered = await keys.register({ ...key, name: 'planner' }, T0)
      expect(registered).toEqual({
        id: key.id,
        publicKey: key.publicKey,
        name: 'planner',
        role: 'agent',
        scopes: [],
        createdAt: T0,
        revokedAt: null,
      })
      expect(await keys.get(key.id)).toEqual(registered)
      const withScopes = agentKey()
      expect(
        await keys.register({ ...withScopes, name: 'ops', role: 'connector', scopes: ['send:*'] }, T0),
      ).toMatchObject({ role: 'connector', scopes: ['send:*'] })
    })

    it('refuses a did that is not the did:key of the public key', async () => {
      const key = agentKey()
      const other = agentKey()
      const error = await keys
        .register({ id: other.id, publicKey: key.publicKey, name: 'impostor' }, T0)
        .catch((reason: unknown) => reason)
      expect(error).toBeInstanceOf(InvalidAgentKeyError)
      expect(error).toMatchObject({ code: 'bad_request', reason: 'did_mismatch' })
      await expect(
        keys.register({ id: 'agent-1', publicKey: key.publicKey, name: 'x' }, T0),
      ).rejects.toMatchObject({
        reason: 'did_mismatch',
      })
      expect(await keys.get(other.id)).toBeUndefined()
      expect(await keys.list()).toEqual([])
    })

    it('refuses a public key that is not 32 raw bytes in unpadded base64url', async () => {
      const key = agentKey()
      const raw = Buffer.from(key.publicKey, 'base64url')
      const malformed = [
        '',
        key.publicKey.slice(0, -1),
        `${key.publicKey}=`,
        raw.toString('base64'),
        Buffer.concat([raw, Buffer.from([0])]).toString('base64url'),
        ` ${key.publicKey}`,
      ].filter((text) => text !== key.publicKey)
      for (const publicKey of malformed) {
        await expect(
          keys.register({ id: key.id, publicKey, name: 'x' }, T0),
          publicKey,
        ).rejects.toMatchObject({
          name: 'InvalidAgentKeyError',
          reason: 'malformed_key',
        })
      }
      expect(await keys.list()).toEqual([])
    })

    it('is idempotent for the same key: a repeat returns the first registration', async () => {
      const key = agentKey()
      const first = await keys.register({ ...key, name: 'planner' }, T0)
      const again = await keys.register({ ...key, name: 'renamed', role: 'admin' }, T0 + 1)
      expect(again).toEqual(first)
      expect(await keys.list()).toEqual([first])
    })

    it('resolves a revoked key as undefined; list keeps it, newest first', async () => {
      const older = agentKey()
      const newer = agentKey()
      await keys.register({ ...older, name: 'older' }, T0)
      await keys.register({ ...newer, name: 'newer' }, T0 + 1)
      expect(await keys.revoke(older.id, T0 + 2)).toBe(true)
      expect(await keys.revoke(older.id, T0 + 3)).toBe(false)
      expect(await keys.revoke('did:key:zunknown', T0 + 3)).toBe(false)
      expect(await keys.get(older.id)).toBeUndefined()
      expect((await keys.list()).map((key) => [key.name, key.revokedAt])).toEqual([
        ['newer', null],
        ['older', T0 + 2],
      ])
    })

    it('stores names and scopes that look like HTML or SQL verbatim', async () => {
      for (const name of HOSTILE_NAMES) {
        const key = agentKey()
        await keys.register({ ...key, name, scopes: [name] }, T0)
        expect(await keys.get(key.id)).toMatchObject({ name, scopes: [name] })
      }
    })
  })
}
