import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  exportIdentity,
  generateIdentity,
  IdentityError,
  signChallenge,
  verifyChallenge,
} from './identity.js'
import { loadIdentity, saveIdentity } from './identity-files.js'

// POSIX permission bits; Windows has none to check.
const posix = process.platform !== 'win32'

describe('saveIdentity / loadIdentity', () => {
  let folder: string
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'parley-identity-'))
  })
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true })
  })

  it('writes the identity file with mode 0600 and loads an identity that signs as the original', async () => {
    const path = join(folder, 'agent.json')
    const identity = await generateIdentity()
    await saveIdentity(path, identity)
    if (posix) expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(await exportIdentity(identity))
    const loaded = await loadIdentity(path)
    expect(loaded.id).toBe(identity.id)
    expect(
      await verifyChallenge(identity.id, await signChallenge(loaded, { nonce: 'n', timestamp: 1 })),
    ).toBe(true)
  })

  it('refuses to overwrite an existing file and leaves it untouched', async () => {
    const path = join(folder, 'agent.json')
    const first = await generateIdentity()
    await saveIdentity(path, first)
    const before = await readFile(path, 'utf8')
    const error = await saveIdentity(path, await generateIdentity()).catch((reason: unknown) => reason)
    expect(error).toBeInstanceOf(IdentityError)
    expect(error).toMatchObject({ reason: 'file_exists', code: 'conflict' })
    expect(await readFile(path, 'utf8')).toBe(before)
    expect((await loadIdentity(path)).id).toBe(first.id)
  })

  it('overwrites with { overwrite: true }, and the replaced file is 0600 even if the old one was not', async () => {
    const path = join(folder, 'agent.json')
    await writeFile(path, '{}')
    await chmod(path, 0o644)
    const identity = await generateIdentity()
    await saveIdentity(path, identity, { overwrite: true })
    expect((await loadIdentity(path)).id).toBe(identity.id)
    if (posix) expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('refuses a file that is not JSON and a file whose id was tampered with', async () => {
    const path = join(folder, 'agent.json')
    await writeFile(path, 'not json')
    await expect(loadIdentity(path)).rejects.toMatchObject({ name: 'IdentityError', reason: 'invalid_file' })

    const identity = await generateIdentity()
    const tampered = { ...(await exportIdentity(identity)), id: (await generateIdentity()).id }
    await writeFile(path, JSON.stringify(tampered))
    await expect(loadIdentity(path)).rejects.toMatchObject({ name: 'IdentityError', reason: 'key_mismatch' })
  })

  it('reports a missing file as the filesystem error (ENOENT)', async () => {
    await expect(loadIdentity(join(folder, 'missing.json'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
