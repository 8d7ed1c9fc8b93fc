import { generateKeyPairSync } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import type { ParleyDatabase } from '../database.js'
import { auditChainHead, auditEvents } from '../schema.js'
import { databaseTargets, useSuiteDatabase } from '../testing.js'
import { canonicalAuditRow, chainHash, GENESIS_HASH, sha256Hex } from './audit-chain.js'
import { AuditCheckpointError, checkAuditCheckpoint, signAuditCheckpoint } from './audit-checkpoint.js'
import type { AuditRecord } from './audit-log.js'
import { normalizeAuditRecord } from './audit-normalize.js'
import { verifyAuditChain } from './audit-verify.js'
import { createMemoryAuditLog } from './memory-audit-log.js'
import { createPostgresAuditChain } from './postgres-audit-chain.js'
import { createPostgresAuditLog } from './postgres-audit-log.js'

const T0 = Date.parse('2025-03-01T12:00:00.000Z')
const signingKey = generateKeyPairSync('ed25519')

function entry(index: number): AuditRecord {
  return {
    kind: index % 3 === 0 ? 'request' : 'publish',
    outcome: 'ok',
    principal: `agent-${index % 4}`,
    channel: index % 2 === 0 ? 'alerts' : null,
    target: index % 3 === 0 ? 'agent-9' : null,
    size: index * 10,
    detail: `row-${index}`,
    correlationId: index % 3 === 0 ? `req_${index}` : null,
    latencyMs: index % 3 === 0 ? index : null,
    time: new Date(T0 + index),
  }
}

/** Writes `count` rows through a log in batches of 7, so the chain crosses batch boundaries. */
async function writeRows(database: ParleyDatabase, count: number): Promise<void> {
  const log = createPostgresAuditLog(database, { batchSize: 7, flushIntervalMs: 60_000 })
  for (let index = 1; index <= count; index += 1) log.record(entry(index))
  await log.close()
}

for (const target of databaseTargets()) {
  describe(`audit hash chain on ${target.label}`, () => {
    const suite = useSuiteDatabase(target)
    const execute = (query: ReturnType<typeof sql>) => suite.database.db.execute(query)

    async function freshChain(count: number): Promise<void> {
      await execute(sql`truncate table ${auditEvents}, ${auditChainHead} restart identity`)
      await writeRows(suite.database, count)
    }
    // Small reads, so the walk crosses several of them.
    const verify = () => verifyAuditChain(createPostgresAuditChain(suite.database), { batchSize: 10 })

    it('chains every row (seq 1…n, each prev_hash the hash before it) and verifies it', async () => {
      await freshChain(50)
      const rows = await createPostgresAuditChain(suite.database).readChain(0n, 100)
      expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 50 }, (_, index) => BigInt(index + 1)))
      expect(rows[0]?.prevHash).toBe(GENESIS_HASH)
      for (let index = 1; index < rows.length; index += 1) {
        expect(rows[index]?.prevHash).toBe(rows[index - 1]?.hash)
      }
      const report = await verify()
      expect(report).toMatchObject({ ok: true, rows: 50, firstSeq: 1n, lastSeq: 50n })
      expect(await createPostgresAuditChain(suite.database).head()).toEqual({
        seq: 50n,
        hash: rows[49]?.hash,
      })
    })

    it('gives the same hashes as the memory log for the same rows (one canonical form)', async () => {
      await freshChain(30)
      const memory = createMemoryAuditLog()
      for (let index = 1; index <= 30; index += 1) memory.record(entry(index))
      const stored = await createPostgresAuditChain(suite.database).readChain(0n, 100)
      const inMemory = (await memory.chain?.readChain(0n, 100)) ?? []
      expect(stored.map((row) => row.hash)).toEqual(inMemory.map((row) => row.hash))
      expect((await verifyAuditChain(memory.chain ?? createPostgresAuditChain(suite.database))).ok).toBe(true)
    })

    it('reads back every text exactly as hashed: quotes, backslashes, control characters, accents, emoji', async () => {
      await execute(sql`truncate table ${auditEvents}, ${auditChainHead} restart identity`)
      const log = createPostgresAuditLog(suite.database, { batchSize: 3, flushIntervalMs: 60_000 })
      const hostile = ['say "hi"\\ \n\t\u0001\u001f', 'café 東京 😀', '</script>\u2028\u2029', '\u007f', '']
      for (const [index, text] of hostile.entries()) {
        log.record({
          ...entry(index + 1),
          principal: text,
          detail: text,
          target: `${text}-t`,
          time: new Date(T0 + index),
        })
      }
      await log.close()
      const rows = await createPostgresAuditChain(suite.database).readChain(0n, 10)
      expect(rows.map((row) => row.detail)).toEqual(hostile)
      expect(await verify()).toMatchObject({ ok: true, rows: hostile.length })
    })

    it('names the row of which one byte was changed', async () => {
      await freshChain(40)
      await execute(
        sql`update ${auditEvents} set detail = overlay(detail placing 'X' from 1 for 1) where seq = 23`,
      )
      const report = await verify()
      expect(report.ok).toBe(false)
      expect(report.problem).toMatchObject({ seq: 23n, reason: expect.stringMatching(/seq 23\).*changed/) })
    })

    it('names the place where a row in the middle was deleted', async () => {
      await freshChain(40)
      await execute(sql`delete from ${auditEvents} where seq = 17`)
      const report = await verify()
      expect(report.ok).toBe(false)
      expect(report.problem).toMatchObject({
        seq: 18n,
        reason: expect.stringMatching(/rows 17 to 17 are missing/),
      })
    })

    it('names the place where a row was inserted, even with a correctly computed hash', async () => {
      await freshChain(40)
      // Make room at seq 20 and insert a forged row there that links to row 19 and hashes correctly.
      await execute(sql`update ${auditEvents} set seq = seq + 1000000 where seq >= 20`)
      await execute(sql`update ${auditEvents} set seq = seq - 1000000 + 1 where seq >= 1000000`)
      const [before] = await createPostgresAuditChain(suite.database).readChain(18n, 1)
      const prevHash = before?.hash ?? ''
      const forged = normalizeAuditRecord({ ...entry(99), time: new Date(T0 + 19) })
      const digest = sha256Hex(canonicalAuditRow({ ...forged, time: forged.time.toISOString() }))
      await suite.database.db
        .insert(auditEvents)
        .values({ ...forged, seq: 20n, prevHash, hash: chainHash(prevHash, 20n, digest) })
      const report = await verify()
      expect(report.ok).toBe(false)
      expect(report.problem).toMatchObject({
        seq: 21n,
        reason: expect.stringMatching(/prev_hash is not the hash of the row before it/),
      })
    })

    it('names a row inserted outside the chain (without a seq)', async () => {
      await freshChain(10)
      const [inserted] = await suite.database.db
        .insert(auditEvents)
        .values({ kind: 'publish', outcome: 'ok', detail: 'forged' })
        .returning({ id: auditEvents.id })
      const report = await verify()
      expect(report.ok).toBe(false)
      expect(report.problem).toMatchObject({
        rowId: inserted?.id.toString(),
        reason: expect.stringMatching(/no place in the chain/),
      })
    })

    it('names the place where two rows were swapped', async () => {
      await freshChain(40)
      await execute(sql`update ${auditEvents} set seq = -1 where seq = 30`)
      await execute(sql`update ${auditEvents} set seq = 30 where seq = 31`)
      await execute(sql`update ${auditEvents} set seq = 31 where seq = -1`)
      const report = await verify()
      expect(report.ok).toBe(false)
      expect(report.problem).toMatchObject({ seq: 30n, reason: expect.stringMatching(/seq 30\): prev_hash/) })
    })

    it('forms one chain from 20 concurrent writers on two nodes', async () => {
      await execute(sql`truncate table ${auditEvents}, ${auditChainHead} restart identity`)
      await suite.withSecondNode(async (second) => {
        const nodes = [suite.database, second].map((database) =>
          createPostgresAuditLog(database, { batchSize: 5, flushIntervalMs: 1 }),
        )
        await Promise.all(
          Array.from({ length: 20 }, async (_, writer) => {
            const log = nodes[writer % 2]
            for (let index = 0; index < 25; index += 1) {
              log?.record({ ...entry(index), detail: `writer-${writer}-${index}` })
              if (index % 5 === 4) await log?.flush()
            }
          }),
        )
        await Promise.all(nodes.map((log) => log.close()))
        expect(nodes.map((log) => log.dropped)).toEqual([0, 0])
      })
      const report = await verify()
      expect(report).toMatchObject({ ok: true, rows: 500, lastSeq: 500n })
    })
    describe('signed checkpoints', () => {
      const chain = () => createPostgresAuditChain(suite.database)
      async function signHead(source: string) {
        const signed = signAuditCheckpoint(await chain().head(), new Date(), signingKey.privateKey)
        return checkAuditCheckpoint(JSON.parse(JSON.stringify(signed)), source, [signingKey.publicKey])
      }

      it('names the deletion of the last 10 rows, which the chain alone cannot see', async () => {
        await freshChain(40)
        const checkpoint = await signHead('checkpoint-40.json')
        await execute(sql`delete from ${auditEvents} where seq > 30`)
        expect((await verify()).ok).toBe(true)
        const report = await verifyAuditChain(chain(), { checkpoints: [checkpoint], batchSize: 10 })
        expect(report.ok).toBe(false)
        expect(report.problem).toMatchObject({
          seq: 30n,
          reason: expect.stringMatching(
            /ends at row id \d+ \(seq 30\) but checkpoint checkpoint-40.json signed seq 40: the last 10 rows were deleted/,
          ),
        })
      })

      it('names a chain whose every hash was recomputed after a change, without the signing key', async () => {
        await freshChain(40)
        const early = await signHead('checkpoint-40.json')
        await execute(sql`update ${auditEvents} set detail = 'rewritten' where seq = 5`)
        // The forger knows the algorithm: every hash from seq 1 on is recomputed, so the chain is consistent.
        let prevHash = GENESIS_HASH
        for (const row of await chain().readChain(0n, 100)) {
          const hash = chainHash(prevHash, row.seq, sha256Hex(canonicalAuditRow(row)))
          await execute(
            sql`update ${auditEvents} set prev_hash = ${prevHash}, hash = ${hash} where seq = ${row.seq.toString()}::bigint`,
          )
          prevHash = hash
        }
        expect((await verify()).ok).toBe(true)
        const report = await verifyAuditChain(chain(), { checkpoints: [early] })
        expect(report.ok).toBe(false)
        expect(report.problem).toMatchObject({
          seq: 40n,
          reason: expect.stringMatching(/does not match checkpoint checkpoint-40.json.*rewritten/),
        })
      })

      it('verifies a chain whose oldest rows were pruned behind a checkpoint, and not without it', async () => {
        await freshChain(20)
        const anchor = await signHead('checkpoint-20.json')
        await writeRows(suite.database, 15)
        expect(await chain().prune(anchor.seq)).toBe(20)
        expect(await verifyAuditChain(chain(), { checkpoints: [anchor] })).toMatchObject({
          ok: true,
          rows: 15,
          firstSeq: 21n,
          lastSeq: 35n,
        })
        const report = await verifyAuditChain(chain())
        expect(report.problem).toMatchObject({
          seq: 21n,
          reason: expect.stringMatching(/rows 1 to 20 are missing/),
        })
      })

      it('refuses a checkpoint whose seq or hash was changed, or that another key signed', async () => {
        await freshChain(3)
        const signed = signAuditCheckpoint(await chain().head(), new Date(), signingKey.privateKey)
        const other = generateKeyPairSync('ed25519')
        expect(() => checkAuditCheckpoint({ ...signed, seq: '4' }, 'a.json', [signingKey.publicKey])).toThrow(
          AuditCheckpointError,
        )
        expect(() =>
          checkAuditCheckpoint({ ...signed, hash: GENESIS_HASH }, 'b.json', [signingKey.publicKey]),
        ).toThrow(/not signed by a trusted key/)
        const forged = signAuditCheckpoint(await chain().head(), new Date(), other.privateKey)
        expect(() => checkAuditCheckpoint(forged, 'c.json', [signingKey.publicKey])).toThrow(
          /c.json is not signed by a trusted key/,
        )
        expect(() => checkAuditCheckpoint({ nonsense: true }, 'd.json', [signingKey.publicKey])).toThrow(
          /not a Parley audit checkpoint/,
        )
      })
    })
  })
}
