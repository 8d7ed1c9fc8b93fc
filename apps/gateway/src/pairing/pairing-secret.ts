import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { readOrCreateSecretFile } from '../security/secret-file.js'

export const PAIRING_SECRET_FILE = 'pairing-secret'
const SECRET_BYTES = 32

/**
 * The HMAC key of pairing codes and approval links: the configured one, else the one kept in
 * `<dataDir>/pairing-secret` (generated on first start, mode 0600). It must survive restarts: codes and
 * links handed out before a restart are checked against it.
 */
export async function resolvePairingSecret(options: {
  secret: string | undefined
  dataDir: string
}): Promise<Uint8Array> {
  if (options.secret !== undefined) return new Uint8Array(Buffer.from(options.secret, 'utf8'))
  const file = join(options.dataDir, PAIRING_SECRET_FILE)
  const secret = randomBytes(SECRET_BYTES)
  const { value } = await readOrCreateSecretFile(
    file,
    { text: secret.toString('base64url'), value: new Uint8Array(secret) },
    (text) => {
      const stored = Buffer.from(text, 'base64url')
      if (stored.length < SECRET_BYTES) {
        throw new Error(
          `${file} does not hold a pairing secret; restore it, or delete it to generate a new one (live codes and approval links stop working)`,
        )
      }
      return new Uint8Array(stored)
    },
  )
  return value
}
