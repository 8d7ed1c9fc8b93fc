import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sha256 } from '../security/secrets.js'
import { ADMIN_TOKEN_FILE, resolveAdminToken } from './admin-token.js'

describe('resolveAdminToken', () => {
  let dataDir: string
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-admin-'))
  })
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('generates a token on first start and keeps only its hash', async () => {
    const first = await resolveAdminToken({ adminToken: undefined, dataDir })
    expect(first.generatedToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const stored = await readFile(join(dataDir, ADMIN_TOKEN_FILE), 'utf8')
    expect(stored.trim()).toBe(sha256(first.generatedToken ?? '').toString('hex'))
    expect(stored).not.toContain(first.generatedToken)
    expect((await stat(join(dataDir, ADMIN_TOKEN_FILE))).mode & 0o077).toBe(0)
  })

  it('reuses the stored hash on later starts without revealing a token', async () => {
    const first = await resolveAdminToken({ adminToken: undefined, dataDir })
    const second = await resolveAdminToken({ adminToken: undefined, dataDir })
    expect(second.generatedToken).toBeUndefined()
    expect(second.digest.equals(first.digest)).toBe(true)
  })

  it('uses a configured token without touching the data folder', async () => {
    const resolved = await resolveAdminToken({ adminToken: 'configured-admin-token', dataDir })
    expect(resolved.digest.equals(sha256('configured-admin-token'))).toBe(true)
    await expect(stat(join(dataDir, ADMIN_TOKEN_FILE))).rejects.toThrow()
  })
})
