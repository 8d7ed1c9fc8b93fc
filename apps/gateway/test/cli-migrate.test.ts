import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultMigrationsFolder } from '@parley/stores'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runParley } from './support/parley-cli.js'

/** `parley migrate`, the first step of an upgrade (docs/operations.md, "Upgrading"), run as an operator would. */
describe('parley migrate', () => {
  let dataDir: string
  let migrations: string[]

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-cli-migrate-'))
    const journal = JSON.parse(
      await readFile(join(defaultMigrationsFolder(), 'meta', '_journal.json'), 'utf8'),
    )
    migrations = journal.entries.map((entry: { tag: string }) => entry.tag)
  })
  afterAll(() => rm(dataDir, { recursive: true, force: true }))

  it('applies every migration to a new embedded database, says so, and exits 0; a second run finds nothing to do', async () => {
    const first = await runParley(['migrate', '--data-dir', dataDir])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    const summary = `Database migrated: ${migrations.length} migrations applied; this version has ${migrations.length}, the latest ${migrations.at(-1)}.`
    expect(first.stdout.trim()).toBe(summary)
    expect(existsSync(join(dataDir, 'data', 'PG_VERSION'))).toBe(true)

    const second = await runParley(['migrate', '--data-dir', dataDir])
    expect(second.code).toBe(0)
    expect(second.stdout.trim()).toBe(summary)
  }, 120_000)

  it('refuses memory:// with exit code 1 and says what to give instead', async () => {
    const result = await runParley(['migrate', '--database-url', 'memory://'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('memory:// holds nothing to migrate')
  }, 60_000)
})
