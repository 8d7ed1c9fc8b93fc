import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
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
  const stored = await readStoredDigest(file)
  if (stored !== undefined) return { digest: stored }
  const generatedToken = generateSecret()
  const digest = sha256(generatedToken)
  await mkdir(options.dataDir, { recursive: true })
  // `wx`: two gateways starting at once must not both think they generated the token.
  try {
    await writeFile(file, `${digest.toString('hex')}\n`, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const winner = await readStoredDigest(file)
    if (winner === undefined) throw error
    return { digest: winner }
  }
  return { digest, generatedToken }
}

async function readStoredDigest(file: string): Promise<Buffer | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const hex = text.trim()
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new Error(`${file} does not hold a SHA-256 hex digest; delete it to generate a new admin token`)
  }
  return Buffer.from(hex, 'hex')
}
