import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'
import type { AuditChainHead } from './audit-log.js'
import type { TrustedCheckpoint } from './audit-verify.js'

/**
 * A signed checkpoint: the chain had `hash` at position `seq` (so `seq` rows had been appended) at `time`.
 * Written as a JSON file outside the database; the Ed25519 signature covers the ASCII text
 * `parley-audit-checkpoint-v1\n<seq>\n<hash>\n<time>`. `publicKey` (base64 SPKI DER) says which key signed,
 * but a verifier trusts only the keys it is given, never the one a file names.
 */
export interface AuditCheckpoint {
  version: 1
  /** Decimal, so that it survives JSON. */
  seq: string
  hash: string
  /** ISO 8601 UTC. */
  time: string
  /** First 16 hex digits of the SHA-256 of the public key's SPKI DER. */
  keyId: string
  publicKey: string
  signature: string
}

/** A checkpoint file that cannot be trusted; the message says why. */
export class AuditCheckpointError extends Error {
  override readonly name = 'AuditCheckpointError'
}

const HASH = /^[0-9a-f]{64}$/
const SEQ = /^\d{1,19}$/

function payload(seq: string, hash: string, time: string): Buffer {
  return Buffer.from(`parley-audit-checkpoint-v1\n${seq}\n${hash}\n${time}`, 'ascii')
}

function publicKeyDer(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' })
}

/** Names a key in checkpoints and messages. */
export function auditKeyId(key: KeyObject): string {
  return createHash('sha256').update(publicKeyDer(key)).digest('hex').slice(0, 16)
}

/** Signs the chain head with an Ed25519 private key. */
export function signAuditCheckpoint(
  head: AuditChainHead,
  time: Date,
  privateKey: KeyObject,
): AuditCheckpoint {
  const seq = head.seq.toString()
  const iso = time.toISOString()
  return {
    version: 1,
    seq,
    hash: head.hash,
    time: iso,
    keyId: auditKeyId(privateKey),
    publicKey: publicKeyDer(privateKey).toString('base64'),
    signature: sign(null, payload(seq, head.hash, iso), privateKey).toString('base64'),
  }
}

/**
 * Checks a parsed checkpoint file against the trusted public keys and returns what it vouches for; throws
 * `AuditCheckpointError` for a malformed file, an unknown key or a bad signature.
 */
export function checkAuditCheckpoint(
  value: unknown,
  source: string,
  trustedKeys: KeyObject[],
): TrustedCheckpoint {
  const checkpoint = value as Partial<AuditCheckpoint> | null
  if (
    typeof checkpoint !== 'object' ||
    checkpoint === null ||
    checkpoint.version !== 1 ||
    typeof checkpoint.seq !== 'string' ||
    !SEQ.test(checkpoint.seq) ||
    typeof checkpoint.hash !== 'string' ||
    !HASH.test(checkpoint.hash) ||
    typeof checkpoint.time !== 'string' ||
    Number.isNaN(Date.parse(checkpoint.time)) ||
    typeof checkpoint.signature !== 'string'
  ) {
    throw new AuditCheckpointError(`checkpoint ${source} is not a Parley audit checkpoint`)
  }
  const { seq, hash, time, signature } = checkpoint
  const signed = payload(seq, hash, time)
  const signer = trustedKeys.find((key) => {
    try {
      return verify(null, signed, key, Buffer.from(signature, 'base64'))
    } catch {
      return false
    }
  })
  if (signer === undefined) {
    const named = typeof checkpoint.keyId === 'string' ? ` (it names key ${checkpoint.keyId})` : ''
    throw new AuditCheckpointError(
      trustedKeys.length === 0
        ? `checkpoint ${source} cannot be checked: no public key was given`
        : `checkpoint ${source} is not signed by a trusted key${named}: forged or changed`,
    )
  }
  return { seq: BigInt(seq), hash, time, source }
}
