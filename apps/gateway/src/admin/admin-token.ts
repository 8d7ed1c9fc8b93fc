import { join } from 'node:path'
import { readOrCreateSecretFile } from '../security/secret-file.js'
import { generateSecret, sha256 } from '../security/secrets.js'

export const ADMIN_TOKEN_FILE = 'admin-token.sha256'

export interface ResolvedAdminToken {
  digest: Buffer
  /** Set only on the start that generated the token: the one time it can be shown. */
  generatedToken?: string
}

/**
 * The admin token: the configured one, else the hash kept in `<dataDir>/admin-token.sha256`, else a new
 * random token whose hash is written there. The token itself is never stored.
 */
export async function resolveAdminToken(options: {
  adminToken: string | undefined
  dataDir: string
}): Promise<ResolvedAdminToken> {
  if (options.adminToken !== undefined) return { digest: sha256(options.adminToken) }
  const file = join(options.dataDir, ADMIN_TOKEN_FILE)
  const generatedToken = generateSecret()
  const digest = sha256(generatedToken)
  // Two gateways starting at once must not both think they generated the token.
  const stored = await readOrCreateSecretFile(
    file,
    { text: digest.toString('hex'), value: digest },
    (text) => {
      if (!/^[0-9a-f]{64}$/i.test(text)) {
        throw new Error(`${file} does not hold a SHA-256 hex digest; delete it to generate a new admin token`)
      }
      return Buffer.from(text, 'hex')
    },
  )
  return stored.created ? { digest, generatedToken } : { digest: stored.value }
}
