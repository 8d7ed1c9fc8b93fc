import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AuditLog,
  type AuditRecord,
  auditChainHead,
  auditEvents,
  checkAuditCheckpoint,
  createPostgresAuditLog,
  type ParleyDatabase,
  verifyAuditChain,
} from '@parley/stores'
import { databaseTargets, useSuiteDatabase } from '@parley/stores/testing'
import { sql } from 'drizzle-orm'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createAuditCheckpoints } from '../src/audit/audit-checkpoints.js'
import { loadAuditPublicKey } from '../src/audit/audit-signing-key.js'
import { verifyAudit } from '../src/cli/audit-verify.js'
import { startTestGateway } from './support/test-gateway.js'

const silent = pino({ level: 'silent' })
const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const row = (index: number): AuditRecord => ({
  kind: 'request',
  outcome: 'ok',
  principal: 'agent-a',
  target: 'agent-b',
  detail: `row-${index}`,
  time: new Date(T0 + index),
})

function captureOutput() {
  const out: string[] = []
  const err: string[] = []
  return {
    output: { out: (text: string) => out.push(text), err: (text: string) => err.push(text) },
    out,
    err,
  }
}

for (const target of databaseTargets()) {
  describe(`audit checkpoints and verify on ${target.label}`, () => {
    const suite = useSuiteDatabase(target)
    let dir: string
    let clock: number
    let log: AuditLog
    let checkpoints: ReturnType<typeof createAuditCheckpoints>

    beforeEach(async () => {
      await suite.database.db.execute(sql`truncate table ${auditEvents}, ${auditChainHead} restart identity`)
      dir = await mkdtemp(join(tmpdir(), 'parley-audit-verify-'))
      clock = T0
      checkpoints = createAuditCheckpoints({
        audit: () => log,
        dir: join(dir, 'audit-checkpoints'),
        signingKeyFile: join(dir, 'audit-signing-key.pem'),
        everyRows: 10,
        intervalMs: 3_600_000,
        retentionMs: 60_000,
        logger: silent,
        now: () => new Date(clock),
      })
      log = createPostgresAuditLog(suite.database, {
        batchSize: 10,
        flushIntervalMs: 60_000,
        onAppend: (head) => checkpoints.noteAppend(head),
      })
      await checkpoints.start()
    })

    afterEach(async () => {
      await checkpoints.stop()
      await log.close()
      await rm(dir, { recursive: true, force: true })
    })

    async function record(from: number, count: number): Promise<void> {
      for (let index = from; index < from + count; index += 1) log.record(row(index))
      await log.flush()
    }
    const checkpointFiles = async () => (await readdir(join(dir, 'audit-checkpoints'))).sort()
    async function verify(database: ParleyDatabase = suite.database) {
      const captured = captureOutput()
      const ok = await verifyAudit(
        {
          database,
          checkpointPaths: [join(dir, 'audit-checkpoints')],
          checkpointsOptional: true,
          trustedKeys: [await loadAuditPublicKey(join(dir, 'audit-signing-key.pem'))],
        },
        captured.output,
      )
      return { ok, out: captured.out.join('\n'), err: captured.err.join('\n') }
    }

    it('signs a checkpoint every checkpointRows rows, one more on stop, and verify matches the newest', async () => {
      // Each flush is one batch; a checkpoint follows the batch that brings 10 or more rows since the last.
      await record(0, 10)
      await record(10, 4)
      await record(14, 6)
      await record(20, 5)
      await expect
        .poll(checkpointFiles, { timeout: 10_000 })
        .toEqual(['checkpoint-00000000000000000010.json', 'checkpoint-00000000000000000020.json'])
      await checkpoints.stop()
      expect(await checkpointFiles()).toContain('checkpoint-00000000000000000025.json')
      const signed = JSON.parse(
        await readFile(join(dir, 'audit-checkpoints', 'checkpoint-00000000000000000025.json'), 'utf8'),
      )
      expect(signed).toMatchObject({ version: 1, seq: '25', hash: expect.stringMatching(/^[0-9a-f]{64}$/) })
      const result = await verify()
      expect(result.err).toBe('')
      expect(result.ok).toBe(true)
      expect(result.out).toMatch(/25 rows, seq 1 to 25/)
      expect(result.out).toMatch(
        /3 matched; verified up to checkpoint checkpoint-00000000000000000025.json \(seq 25/,
      )
    })

    it('fails naming the place when the last 10 rows were deleted', async () => {
      await record(0, 30)
      await checkpoints.checkpoint()
      await suite.database.db.execute(sql`delete from ${auditEvents} where seq > 20`)
      const result = await verify()
      expect(result.ok).toBe(false)
      expect(result.err).toMatch(
        /ends at row id \d+ \(seq 20\) but checkpoint checkpoint-00000000000000000030.json signed seq 30: the last 10 rows were deleted/,
      )
    })

    it('fails naming a checkpoint file that was changed', async () => {
      await record(0, 10)
      await checkpoints.checkpoint()
      const file = join(dir, 'audit-checkpoints', 'checkpoint-00000000000000000010.json')
      const signed = JSON.parse(await readFile(file, 'utf8'))
      await writeFile(file, JSON.stringify({ ...signed, seq: '9' }))
      const result = await verify()
      expect(result.ok).toBe(false)
      expect(result.err).toMatch(/checkpoint-00000000000000000010.json is not signed by a trusted key/)
    })

    it('retention deletes the rows behind the newest checkpoint older than the cut-off, and verify still passes', async () => {
      await record(0, 10)
      await record(10, 10)
      await expect.poll(checkpointFiles, { timeout: 10_000 }).toHaveLength(2)
      clock = T0 + 30_000
      await record(20, 5)
      await checkpoints.checkpoint()
      // Only the checkpoints at 10 and 20 are older than the 60 s retention.
      clock = T0 + 70_000
      expect(await checkpoints.prune()).toBe(20)
      // The checkpoint at 10 covered only deleted rows; the one at 20 anchors the chain.
      expect(await checkpointFiles()).toEqual([
        'checkpoint-00000000000000000020.json',
        'checkpoint-00000000000000000025.json',
      ])
      const result = await verify()
      expect(result.err).toBe('')
      expect(result.out).toMatch(/5 rows, seq 21 to 25/)
      expect(result.out).toMatch(/verified up to checkpoint checkpoint-00000000000000000025.json/)
    })
  })
}

describe('a running gateway', () => {
  it('keeps its signing key in the data folder and signs a checkpoint of the audit chain when it stops', async () => {
    const test = await startTestGateway({ audit: { checkpointInterval: 3_600 } })
    try {
      const audit = test.audit as AuditLog
      for (let index = 0; index < 3; index += 1) audit.record(row(index))
      await test.gateway.stop({ drainTimeoutMs: 1_000 })
      const folder = join(test.dataDir, 'audit-checkpoints')
      const names = await readdir(folder)
      const newest = names.sort().at(-1) ?? ''
      const signed = JSON.parse(await readFile(join(folder, newest), 'utf8'))
      const key = await loadAuditPublicKey(join(test.dataDir, 'audit-signing-key.pem'))
      const checkpoint = checkAuditCheckpoint(signed, newest, [key])
      const head = await audit.chain?.head()
      expect(checkpoint).toMatchObject({ seq: head?.seq, hash: head?.hash })
      expect(head?.seq).toBeGreaterThanOrEqual(3n)
      const chain = audit.chain
      if (chain === undefined) throw new Error('the memory audit log has a chain')
      expect(await verifyAuditChain(chain, { checkpoints: [checkpoint] })).toMatchObject({
        ok: true,
        checkpointsMatched: 1,
      })
    } finally {
      await test.dispose()
    }
  })
})
