import { createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto'
import { type AgentCard, generateAgentCardSignature } from '@a2a-js/sdk'
import { calculateJwkThumbprint, exportJWK, FlattenedSign, type JWK } from 'jose'

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

/** Drops empty strings, nulls, empty arrays and empty objects, as the SDK does before canonicalizing a card. */
function withoutEmpty(value: unknown): unknown {
  if (value === '' || value === null || value === undefined) return undefined
  if (Array.isArray(value)) {
    const items = value.map(withoutEmpty).filter((item) => item !== undefined)
    return items.length > 0 ? items : undefined
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => [key, withoutEmpty(item)] as const)
      .filter(([, item]) => item !== undefined)
    return entries.length > 0 ? Object.fromEntries(entries) : undefined
  }
  return value
}

/** JSON with object keys sorted (RFC 8785 for the strings, numbers and booleans a card holds). */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const record = value as Record<string, unknown>
  return `{${Object.keys(record)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`)
    .join(',')}}`
}

/**
 * The canonical form of a card as JSON, whatever its version: without `signatures`, empty values dropped, keys
 * sorted. For a v1.0 card it is what the SDK's `verifyAgentCardSignature` computes; for the v0.3 card it is
 * the same rule over the v0.3 fields (`url`, `preferredTransport`, `protocolVersion`, …).
 */
export function canonicalCardJson(card: Record<string, unknown>): string {
  const { signatures: _signatures, ...unsigned } = card
  return canonicalJson(withoutEmpty(unsigned) ?? {})
}

/**
 * The v0.3 card as JSON with its own signature, over its own canonical form (`canonicalCardJson`): a v0.3
 * caller verifies the form it reads. Same key, same protected header as the v1.0 card's.
 */
export async function signLegacyCardJson(
  card: Record<string, unknown>,
  key: CardSigningKey,
  baseUrl: string,
): Promise<Record<string, unknown>> {
  const jws = await new FlattenedSign(new TextEncoder().encode(canonicalCardJson(card)))
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JOSE', kid: key.kid, jku: `${baseUrl}${A2A_JWKS_PATH}` })
    .sign(key.privateKey)
  return { ...card, signatures: [{ protected: jws.protected, signature: jws.signature }] }
}
