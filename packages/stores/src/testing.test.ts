import { existsSync } from 'node:fs'
import postgres from 'postgres'
import { describe, expect, it } from 'vitest'
import { createTestDatabase, databaseTargets, testServerUrl } from './testing.js'

describe('databaseTargets', () => {
  it('always includes in-memory PGlite and adds the server only when one is given', () => {
    expect(databaseTargets({ serverUrl: undefined }).map((target) => target.kind)).toContain('pglite-memory')
    const withServer = databaseTargets({ serverUrl: 'postgres://user:secret@db.example:5432/postgres' })
    expect(withServer.map((target) => target.kind)).toEqual(['pglite-memory', 'postgres'])
    expect(withServer.map((target) => target.label).join(' ')).not.toContain('secret')
    expect(databaseTargets({ includeDataDir: true }).map((target) => target.kind)).toContain('pglite-dir')
  })
})

describe('createTestDatabase', () => {
  it('hands out a fresh temporary data folder for embedded PGlite and removes it on drop', async () => {
    const testDatabase = await createTestDatabase('pglite-dir')
    expect(testDatabase.url).toBeUndefined()
    expect(testDatabase.dataDir && existsSync(testDatabase.dataDir)).toBe(true)
    await testDatabase.drop()
    expect(testDatabase.dataDir && existsSync(testDatabase.dataDir)).toBe(false)
  })
})

const serverUrl = testServerUrl()
if (serverUrl !== undefined) {
  describe('createTestDatabase on the DATABASE_URL server', () => {
    it('creates a parley_test_ database and drops it even while a connection is open', async () => {
      const testDatabase = await createTestDatabase()
      expect(testDatabase.kind).toBe('postgres')
      const name = new URL(testDatabase.url as string).pathname.slice(1)
      expect(name).toMatch(/^parley_test_[0-9a-f]{12}$/)
      const client = postgres(testDatabase.url as string, { max: 1, onnotice: () => {} })
      const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
      try {
        await client`select 1`
        await testDatabase.drop()
        const rows = await admin`select 1 from pg_database where datname = ${name}`
        expect(rows).toHaveLength(0)
      } finally {
        await client.end({ timeout: 1 }).catch(() => {})
        await admin.end({ timeout: 5 })
      }
    })
  })
}
