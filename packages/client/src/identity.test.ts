import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import { base58BtcEncode, base64UrlEncode } from '@parley/protocol'
import { beforeAll, describe, expect, it } from 'vitest'
import { ParleyError } from './errors.js'
import {
  type AgentIdentity,
  challengeMessage,
  didKeyFromPublicKey,
  exportIdentity,
  generateIdentity,
  IdentityError,
  type IdentityFile,
  importIdentity,
  publicKeyFromDidKey,
  type SignedChallenge,
  signChallenge,
  verifyChallenge,
} from './identity.js'

/** PKCS#8 DER of an Ed25519 private key: the fixed ASN.1 header (RFC 8410) and the 32-byte seed. */
const pkcs8FromSeed = (seedHex: string): Uint8Array =>
  Uint8Array.from(
    Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]),
  )

/** The raw public key of a seed, computed by node:crypto (OpenSSL), independently of WebCrypto and this code. */
const nodePublicKey = (seedHex: string): Uint8Array => {
  const privateKey = createPrivateKey({
    key: Buffer.from(pkcs8FromSeed(seedHex)),
    format: 'der',
    type: 'pkcs8',
  })
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' })
  return Uint8Array.from(Buffer.from(jwk.x ?? '', 'base64url'))
}

// W3C CCG did:key test vectors (ed25519): the all-zero seed.
const ZERO_SEED = '00'.repeat(32)
const ZERO_SEED_PUBLIC_KEY = '3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29'
const ZERO_SEED_DID = 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp'
// RFC 8032 §7.1 TEST 1.
const RFC8032_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'
const RFC8032_PUBLIC_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'

const fileFromSeed = (seedHex: string): IdentityFile => {
  const publicKey = nodePublicKey(seedHex)
  return {
    version: 1,
    id: didKeyFromPublicKey(publicKey),
    publicKey: base64UrlEncode(publicKey),
    privateKey: base64UrlEncode(pkcs8FromSeed(seedHex)),
  }
}

async function identityError(promise: Promise<unknown> | (() => unknown)): Promise<IdentityError> {
  const error = await (typeof promise === 'function' ? Promise.resolve().then(promise) : promise).then(
    () => undefined,
    (reason: unknown) => reason,
  )
  expect(error).toBeInstanceOf(IdentityError)
  expect(error).toBeInstanceOf(ParleyError)
  return error as IdentityError
}

describe('did:key', () => {
  it('derives the W3C did:key test vector from the all-zero seed, whose key node:crypto computes independently', () => {
    const publicKey = nodePublicKey(ZERO_SEED)
    expect(Buffer.from(publicKey).toString('hex')).toBe(ZERO_SEED_PUBLIC_KEY)
    expect(didKeyFromPublicKey(publicKey)).toBe(ZERO_SEED_DID)
    expect(publicKeyFromDidKey(ZERO_SEED_DID)).toEqual(publicKey)
  })

  it('round-trips the RFC 8032 test key and every did:key of an Ed25519 key starts with z6Mk', () => {
    const publicKey = nodePublicKey(RFC8032_SEED)
    expect(Buffer.from(publicKey).toString('hex')).toBe(RFC8032_PUBLIC_KEY)
    const did = didKeyFromPublicKey(publicKey)
    expect(did.startsWith('did:key:z6Mk')).toBe(true)
    expect(publicKeyFromDidKey(did)).toEqual(publicKey)
  })

  it('refuses public keys that are not 32 bytes', async () => {
    for (const length of [0, 31, 33, 64]) {
      const error = await identityError(() => didKeyFromPublicKey(new Uint8Array(length)))
      expect(error.reason).toBe('invalid_public_key')
    }
  })

  it.each([
    ['another method', 'did:web:example.com'],
    ['another multibase', 'did:key:f6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp'],
    ['a character outside base58btc', 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0'],
    ['a truncated key', ZERO_SEED_DID.slice(0, -2)],
    ['a DID URL fragment', `${ZERO_SEED_DID}#${ZERO_SEED_DID.slice(8)}`],
    // 0xec 0x01 is x25519-pub: a key, but not a signing key.
    [
      'another key type',
      `did:key:z${base58BtcEncode(Uint8Array.of(0xec, 0x01, ...new Uint8Array(32).fill(7)))}`,
    ],
    ['an empty string', ''],
  ])('publicKeyFromDidKey refuses %s with invalid_did', async (_label, did) => {
    const error = await identityError(() => publicKeyFromDidKey(did))
    expect(error.reason).toBe('invalid_did')
    expect(error.code).toBe('bad_request')
  })
})

describe('generateIdentity / exportIdentity / importIdentity', () => {
  it('generates an Ed25519 identity whose id is the did:key of its public key', async () => {
    const identity = await generateIdentity()
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', identity.keyPair.publicKey))
    expect(identity.publicKey).toBe(base64UrlEncode(raw))
    expect(identity.id).toBe(didKeyFromPublicKey(raw))
    expect(identity.keyPair.privateKey.algorithm.name).toBe('Ed25519')
    expect((await generateIdentity()).id).not.toBe(identity.id)
  })

  it('round-trips through a JSON file that signs exactly as the original', async () => {
    const identity = await generateIdentity()
    const file = await exportIdentity(identity)
    expect(Object.keys(file).sort()).toEqual(['id', 'privateKey', 'publicKey', 'version'])
    const restored = await importIdentity(JSON.parse(JSON.stringify(file)))
    expect(restored.id).toBe(identity.id)
    expect(restored.publicKey).toBe(identity.publicKey)
    const signed = await signChallenge(restored, { nonce: 'n-1', timestamp: 1_700_000_000_000 })
    expect(await verifyChallenge(identity.id, signed)).toBe(true)
    expect(await exportIdentity(restored)).toEqual(file)
  })

  it('imports a private key written by other tools (seed-based PKCS#8) to the W3C vector id', async () => {
    const identity = await importIdentity(fileFromSeed(ZERO_SEED))
    expect(identity.id).toBe(ZERO_SEED_DID)
  })

  it('signs as RFC 8032 specifies: node:crypto verifies the signature and Ed25519 is deterministic', async () => {
    const identity = await importIdentity(fileFromSeed(RFC8032_SEED))
    const signed = await signChallenge(identity, { nonce: 'abc', timestamp: 1 })
    const message = Buffer.from(challengeMessage('abc', 1, identity.id))
    const nodeKey = createPrivateKey({
      key: Buffer.from(pkcs8FromSeed(RFC8032_SEED)),
      format: 'der',
      type: 'pkcs8',
    })
    expect(Buffer.from(signed.signature, 'base64url')).toEqual(nodeSign(null, message, nodeKey))
    expect(
      nodeVerify(null, message, createPublicKey(nodeKey), Buffer.from(signed.signature, 'base64url')),
    ).toBe(true)
  })

  it('refuses a file whose id is another key’s did:key (key_mismatch)', async () => {
    const file = { ...fileFromSeed(RFC8032_SEED), id: ZERO_SEED_DID }
    expect((await identityError(importIdentity(file))).reason).toBe('key_mismatch')
  })

  it('refuses a file whose public key and id were both swapped for another key (private key does not match)', async () => {
    const other = fileFromSeed(ZERO_SEED)
    const file = { ...fileFromSeed(RFC8032_SEED), id: other.id, publicKey: other.publicKey }
    expect((await identityError(importIdentity(file))).reason).toBe('key_mismatch')
  })

  it.each<[string, unknown, string]>([
    ['not an object', 'did:key:z6Mk', 'invalid_file'],
    ['null', null, 'invalid_file'],
    ['an unknown version', { ...fileFromSeed(ZERO_SEED), version: 2 }, 'invalid_file'],
    ['a missing private key', { ...fileFromSeed(ZERO_SEED), privateKey: undefined }, 'invalid_file'],
    [
      'a public key of 31 bytes',
      { ...fileFromSeed(ZERO_SEED), publicKey: base64UrlEncode(new Uint8Array(31)) },
      'invalid_public_key',
    ],
    ['a malformed id', { ...fileFromSeed(ZERO_SEED), id: 'did:key:nope' }, 'invalid_did'],
    [
      'a private key that is not base64url',
      { ...fileFromSeed(ZERO_SEED), privateKey: 'a+b/' },
      'invalid_private_key',
    ],
    [
      'a private key that is not PKCS#8',
      { ...fileFromSeed(ZERO_SEED), privateKey: base64UrlEncode(new Uint8Array(32)) },
      'invalid_private_key',
    ],
  ])('refuses a file with %s', async (_label, file, reason) => {
    expect((await identityError(importIdentity(file))).reason).toBe(reason)
  })

  it('keeps a non-extractable private key out of exportIdentity', async () => {
    const identity = await generateIdentity({ extractable: false })
    expect(identity.keyPair.privateKey.extractable).toBe(false)
    expect((await identityError(exportIdentity(identity))).reason).toBe('not_extractable')
    const signed = await signChallenge(identity, { nonce: 'n', timestamp: 5 })
    expect(await verifyChallenge(identity.id, signed)).toBe(true)
  })

  it('never puts key material in JSON.stringify of an identity', async () => {
    const identity = await generateIdentity()
    const file = await exportIdentity(identity)
    expect(JSON.stringify(identity)).not.toContain(file.privateKey)
  })
})

describe('signChallenge / verifyChallenge', () => {
  let identity: AgentIdentity
  let other: AgentIdentity
  const challenge = { nonce: 'Zm9vYmFyLW5vbmNl', timestamp: 1_760_000_000_123 }

  beforeAll(async () => {
    identity = await generateIdentity()
    other = await generateIdentity()
  })

  it('signs the parley-auth-v1 message, and the signature verifies by did and by raw key', async () => {
    expect(challengeMessage('n0', 42, 'did:key:z6Mkx')).toBe('parley-auth-v1\nn0\n42\ndid:key:z6Mkx')
    const signed = await signChallenge(identity, challenge)
    expect(signed).toMatchObject({ id: identity.id, ...challenge })
    expect(signed.signature).toMatch(/^[A-Za-z0-9_-]{86}$/)
    expect(await verifyChallenge(identity.id, signed)).toBe(true)
    expect(await verifyChallenge(publicKeyFromDidKey(identity.id), signed)).toBe(true)
    const message = new TextEncoder().encode(
      challengeMessage(challenge.nonce, challenge.timestamp, identity.id),
    )
    const signature = Buffer.from(signed.signature, 'base64url')
    expect(await crypto.subtle.verify('Ed25519', identity.keyPair.publicKey, signature, message)).toBe(true)
  })

  it('defaults the timestamp to now', async () => {
    const before = Date.now()
    const signed = await signChallenge(identity, { nonce: 'n' })
    expect(signed.timestamp).toBeGreaterThanOrEqual(before)
    expect(signed.timestamp).toBeLessThanOrEqual(Date.now())
    expect(await verifyChallenge(identity.id, signed)).toBe(true)
  })

  it('fails with another key, even when the answer claims that key’s id', async () => {
    const signed = await signChallenge(identity, challenge)
    expect(await verifyChallenge(other.id, signed)).toBe(false)
    expect(await verifyChallenge(other.id, { ...signed, id: other.id })).toBe(false)
  })

  it('fails when the id does not match the verifying key', async () => {
    const signed = await signChallenge(identity, challenge)
    expect(await verifyChallenge(identity.id, { ...signed, id: other.id })).toBe(false)
  })

  it('fails for a modified nonce', async () => {
    const signed = await signChallenge(identity, challenge)
    expect(await verifyChallenge(identity.id, { ...signed, nonce: `${challenge.nonce}x` })).toBe(false)
  })

  it('fails for a modified timestamp', async () => {
    const signed = await signChallenge(identity, challenge)
    expect(await verifyChallenge(identity.id, { ...signed, timestamp: challenge.timestamp + 1 })).toBe(false)
  })

  it('fails for a modified or malformed signature instead of throwing', async () => {
    const signed = await signChallenge(identity, challenge)
    const bytes = Buffer.from(signed.signature, 'base64url')
    bytes[0] = (bytes[0] ?? 0) ^ 1
    const malformed: unknown[] = [
      { ...signed, signature: bytes.toString('base64url') },
      { ...signed, signature: signed.signature.slice(0, -2) },
      { ...signed, signature: `${signed.signature}==` },
      { ...signed, signature: 42 },
      { ...signed, timestamp: String(signed.timestamp) },
      { ...signed, nonce: `${signed.nonce}\nextra` },
      null,
    ]
    for (const answer of malformed)
      expect(await verifyChallenge(identity.id, answer as SignedChallenge)).toBe(false)
  })

  it('throws invalid_challenge when asked to sign a nonce with a newline, an empty nonce or a bad timestamp', async () => {
    for (const input of [
      { nonce: 'a\nb', timestamp: 1 },
      { nonce: '', timestamp: 1 },
      { nonce: 'n', timestamp: 1.5 },
      { nonce: 'n', timestamp: -1 },
    ]) {
      expect((await identityError(signChallenge(identity, input))).reason).toBe('invalid_challenge')
    }
  })

  it('throws for a malformed key argument (a caller error, not a failed answer)', async () => {
    const signed = await signChallenge(identity, challenge)
    expect((await identityError(verifyChallenge('did:web:x', signed))).reason).toBe('invalid_did')
    expect((await identityError(verifyChallenge(new Uint8Array(16), signed))).reason).toBe(
      'invalid_public_key',
    )
  })
})
