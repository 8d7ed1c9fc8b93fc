import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PAIRING_SECRET_FILE, resolvePairingSecret } from './pairing-secret.js'

describe('pairing secret', () => {
  const folders: string[] = []
  afterEach(async () => {
    for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true })
  })
  async function folder() {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-pairing-secret-'))
    folders.push(dataDir)
    return dataDir
  }

  it('generates 32 random bytes once into a 0600 file and returns the same secret on the next start', async () => {
    const dataDir = await folder()
    const first = await resolvePairingSecret({ secret: undefined, dataDir })
    expect(first).toHaveLength(32)
    const file = join(dataDir, PAIRING_SECRET_FILE)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url')).toEqual(Buffer.from(first))
    const second = await resolvePairingSecret({ secret: undefined, dataDir })
    expect(Buffer.from(second)).toEqual(Buffer.from(first))
  })

  it('uses the configured secret and writes no file', async () => {
    const dataDir = await folder()
    const secret = await resolvePairingSecret({ secret: 'x'.repeat(40), dataDir })
    expect(Buffer.from(secret).toString()).toBe('x'.repeat(40))
    await expect(stat(join(dataDir, PAIRING_SECRET_FILE))).rejects.toThrow()
  })

  it('refuses a file that does not hold a secret instead of replacing it', async () => {
    const dataDir = await folder()
    await writeFile(join(dataDir, PAIRING_SECRET_FILE), 'short\n')
    await expect(resolvePairingSecret({ secret: undefined, dataDir })).rejects.toThrow(
      /does not hold a pairing secret/,
    )
  })
})
