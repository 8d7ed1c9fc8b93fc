import { createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto'
import { type AgentCard, generateAgentCardSignature } from '@a2a-js/sdk'
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose'

/** Where the gateway publishes the public key of its card signatures, under its public base URL. */
export const A2A_JWKS_PATH = '/a2a/.well-known/jwks.json'

/** PKCS #8 DER prefix of an Ed25519 private key; the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

export interface CardSigningKey {
  privateKey: KeyObject
  /** The public key as published in the JWKS (with `kid`, `alg`, `use`). */
  publicJwk: JWK
  kid: string
}

/**
 * The gateway's Ed25519 card-signing key, derived from the pairing secret: the same on every node that shares
 * `pairing.secret`, and across restarts (the generated secret is kept in the data folder).
 */
export async function cardSigningKey(pairingSecret: Uint8Array): Promise<CardSigningKey> {
  const seed = Buffer.from(
    hkdfSync('sha256', pairingSecret, new Uint8Array(0), 'parley a2a card signing key', 32),
  )
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  })
  const jwk = await exportJWK(createPublicKey(privateKey))
  const kid = await calculateJwkThumbprint(jwk)
  return { privateKey, kid, publicJwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } }
}

/** The card with a JWS signature over its canonical form (RFC 8785), naming the key and the JWKS URL. */
export function signAgentCard(card: AgentCard, key: CardSigningKey, baseUrl: string): Promise<AgentCard> {
  return generateAgentCardSignature(key.privateKey, {
    alg: 'EdDSA',
    typ: 'JOSE',
    kid: key.kid,
    jku: `${baseUrl}${A2A_JWKS_PATH}`,
  })(card)
}
