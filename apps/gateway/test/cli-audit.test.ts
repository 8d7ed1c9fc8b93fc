import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AuditLog,
  auditEvents,
  createPostgresAuditLog,
  openDatabase,
  type ParleyDatabase,
} from '@parley/stores'
import { createTestDatabase, type TestDatabase, testServerUrl } from '@parley/stores/testing'
import { sql } from 'drizzle-orm'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuditCheckpoints } from '../src/audit/audit-checkpoints.js'
import { csvCell } from '../src/cli/audit-export.js'
import { runParley } from './support/parley-cli.js'

/**
 * `parley audit verify|export` run as a user would, against the embedded database of a data folder (or the
 * `DATABASE_URL` server), with the checkpoints and key the gateway keeps in that folder.
 */
describe('parley audit', () => {
  let dataDir: string
  let server: TestDatabase | undefined
  let databaseArgs: string[]

  const open = (): Promise<ParleyDatabase> =>
    server === undefined
      ? openDatabase({ dataDir: join(dataDir, 'data') })
      : openDatabase({ url: server.url })

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-cli-audit-'))
    server = testServerUrl() === undefined ? undefined : await createTestDatabase('postgres')
    databaseArgs = [
      '--data-dir',
      dataDir,
      ...(server?.url === undefined ? [] : ['--database-url', server.url]),
    ]
    const database = await open()
    let log: AuditLog | undefined
    const checkpoints = createAuditCheckpoints({
      audit: () => log,
      dir: join(dataDir, 'audit-checkpoints'),
      signingKeyFile: join(dataDir, 'audit-signing-key.pem'),
      everyRows: 1_000,
      intervalMs: 3_600_000,
      retentionMs: 0,
      logger: pino({ level: 'silent' }),
    })
    log = createPostgresAuditLog(database)
    await checkpoints.start()
    for (let index = 1; index <= 30; index += 1) {
      log.record({
        kind: index % 2 === 0 ? 'publish' : 'request',
        outcome: 'ok',
        principal: index % 3 === 0 ? '=HYPERLINK("x")' : `agent-${index % 3}`,
        channel: index % 2 === 0 ? 'alerts' : null,
        detail: `row ${index}, "quoted"`,
        time: new Date(Date.parse('2026-01-01T00:00:00.000Z') + index * 1000),
      })
    }
    await checkpoints.stop()
    await log.close()
    await database.close()
  }, 120_000)

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true })
    await server?.drop()
  })

  it('verify exits 0 and says up to which checkpoint the chain was verified', async () => {
    const result = await runParley(['audit', 'verify', ...databaseArgs])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/Audit chain verified: 30 rows, seq 1 to 30/)
    expect(result.stdout).toMatch(/verified up to checkpoint checkpoint-00000000000000000030.json \(seq 30/)
  }, 120_000)

  it('export --format ndjson writes the rows matching the filters, one JSON object per line', async () => {
    const result = await runParley([
      'audit',
      'export',
      '--format',
      'ndjson',
      '--principal',
      'agent-1',
      ...databaseArgs,
    ])
    expect(result.code).toBe(0)
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(rows).toHaveLength(10)
    expect(rows.every((event) => event.principal === 'agent-1')).toBe(true)
    // Newest first, as the admin API.
    expect(rows[0].detail).toBe('row 28, "quoted"')
  }, 120_000)

  it('export --format csv writes a header and quoted rows, with formulas disarmed', async () => {
    const result = await runParley([
      'audit',
      'export',
      '--format',
      'csv',
      '--kind',
      'publish',
      '--since',
      '2026-01-01T00:00:20Z',
      ...databaseArgs,
    ])
    expect(result.code).toBe(0)
    const lines = result.stdout.trimEnd().split('\r\n')
    expect(lines[0]).toBe(
      'id,time,kind,outcome,principal,clientId,connectionId,channel,target,size,detail,traceId,correlationId,latencyMs',
    )
    // Rows 20, 22, … 30.
    expect(lines).toHaveLength(1 + 6)
    expect(lines[1]).toContain(`,publish,ok,"'=HYPERLINK(""x"")",,,alerts,,,"row 30, ""quoted""",,,`)
    expect(csvCell('-1+1')).toBe("'-1+1")
  }, 120_000)

  it('verify exits 1 naming the row of which one byte was changed', async () => {
    const database = await open()
    await database.db.execute(sql`update ${auditEvents} set detail = 'row 7, "quotes"' where seq = 7`)
    await database.close()
    const result = await runParley(['audit', 'verify', ...databaseArgs])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /Audit verification FAILED: row id \d+ \(seq 7\): its hash does not match its contents/,
    )
  }, 120_000)
})
