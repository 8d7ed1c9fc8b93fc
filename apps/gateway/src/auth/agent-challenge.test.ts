import { generateKeyPairSync, sign } from 'node:crypto'
import { challengeMessage as clientChallengeMessage, generateIdentity, signChallenge } from '@parley/client'
import { describe, expect, it } from 'vitest'
import { challengeMessage, createUsedNonces, newNonce, signatureValid } from './agent-challenge.js'

function rawPublicKey(publicKey: ReturnType<typeof generateKeyPairSync>['publicKey']): string {
  const jwk = publicKey.export({ format: 'jwk' })
  return String(jwk.x)
}

describe('agent challenge', () => {
  it('builds the same signed text as the client', () => {
    const nonce = newNonce()
    expect(challengeMessage(nonce, 1763780000000, 'did:key:z6MkExample')).toBe(
      clientChallengeMessage(nonce, 1763780000000, 'did:key:z6MkExample'),
    )
  })

  it('verifies a signature made by the client library, and refuses it for another message', async () => {
    const identity = await generateIdentity()
    const nonce = newNonce()
    const signed = await signChallenge(identity, { nonce, timestamp: 1763780000000 })
    const { publicKey } = identity
    expect(
      signatureValid(publicKey, challengeMessage(nonce, signed.timestamp, identity.id), signed.signature),
    ).toBe(true)
    expect(
      signatureValid(publicKey, challengeMessage(nonce, signed.timestamp + 1, identity.id), signed.signature),
    ).toBe(false)
  })

  it('refuses a signature by another key and malformed signatures without throwing', () => {
    const mine = generateKeyPairSync('ed25519')
    const other = generateKeyPairSync('ed25519')
    const message = challengeMessage('n', 1, 'did')
    const signature = sign(null, Buffer.from(message), other.privateKey).toString('base64url')
    expect(signatureValid(rawPublicKey(mine.publicKey), message, signature)).toBe(false)
    expect(signatureValid(rawPublicKey(other.publicKey), message, signature)).toBe(true)
    expect(signatureValid(rawPublicKey(mine.publicKey), message, 'not-a-signature')).toBe(false)
    expect(signatureValid('short', message, signature)).toBe(false)
  })

  it('issues 32-byte base64url nonces', () => {
    expect(Buffer.from(newNonce(), 'base64url')).toHaveLength(32)
    expect(newNonce()).not.toBe(newNonce())
  })

  it('remembers used nonces up to its bound, forgetting the oldest first', () => {
    const used = createUsedNonces(2)
    used.add('a')
    used.add('b')
    used.add('c')
    expect(used.has('a')).toBe(false)
    expect(used.has('b')).toBe(true)
    expect(used.has('c')).toBe(true)
  })
})
