import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

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
  const stored = await readStoredSecret(file)
  if (stored !== undefined) return stored
  const secret = randomBytes(SECRET_BYTES)
  await mkdir(options.dataDir, { recursive: true })
  // `wx`: of two gateways starting at once on the same folder, the second reads the first one's secret.
  try {
    await writeFile(file, `${secret.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const winner = await readStoredSecret(file)
    if (winner === undefined) throw error
    return winner
  }
  return new Uint8Array(secret)
}

async function readStoredSecret(file: string): Promise<Uint8Array | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const secret = Buffer.from(text.trim(), 'base64url')
  if (secret.length < SECRET_BYTES) {
    throw new Error(
      `${file} does not hold a pairing secret; restore it, or delete it to generate a new one (live codes and approval links stop working)`,
    )
  }
  return new Uint8Array(secret)
}
