import { describe, expect, it } from 'vitest'
import type { AuditChainSource, AuditChainStore } from './audit-chain.js'
import { verifyAuditChain } from './audit-verify.js'
import { createMemoryAuditLog } from './memory-audit-log.js'

/** A memory log's chain with `count` rows, recording where each read starts. */
async function chainOf(count: number) {
  const log = createMemoryAuditLog()
  for (let index = 0; index < count; index += 1) {
    log.record({ kind: 'publish', outcome: 'ok', principal: 'p', channel: 'news', detail: `row ${index}` })
  }
  const chain = log.chain as AuditChainStore
  const reads: bigint[] = []
  const source: AuditChainSource = {
    readChain: async (afterSeq, limit) => {
      reads.push(afterSeq)
      return chain.readChain(afterSeq, limit)
    },
  }
  return { source, reads, chain }
}

describe('verifyAuditChain resuming after a verified row', () => {
  it('reads and counts only the rows after it', async () => {
    const { source, reads } = await chainOf(8)
    const first = await verifyAuditChain(source, { batchSize: 100 })
    expect(first).toMatchObject({ ok: true, rows: 8, lastSeq: 8n })
    const seq = 5n
    const hash = (await source.readChain(4n, 1))[0]?.hash as string
    reads.length = 0
    const resumed = await verifyAuditChain(source, { after: { seq, hash, id: '5' }, batchSize: 100 })
    expect(resumed).toMatchObject({ ok: true, rows: 3, lastSeq: 8n, lastId: '8' })
    // The read after the verified row, and the one after it started unasked (the walk reads a batch ahead).
    expect(reads).toEqual([5n, 105n])
  })

  it('fails when the first new row does not follow the verified one', async () => {
    const { source } = await chainOf(4)
    const report = await verifyAuditChain(source, { after: { seq: 2n, hash: 'f'.repeat(64), id: '2' } })
    expect(report.ok).toBe(false)
    expect(report.problem).toMatchObject({ seq: 3n })
    expect(report.problem?.reason).toMatch(/prev_hash is not the hash of the row before it/)
  })

  it('passes with no new row when no checkpoint lies beyond the verified one', async () => {
    const { source } = await chainOf(3)
    const hash = (await source.readChain(2n, 1))[0]?.hash as string
    const report = await verifyAuditChain(source, { after: { seq: 3n, hash, id: '3' } })
    expect(report).toMatchObject({ ok: true, rows: 0 })
  })
})

describe('verifyAuditChain reading ahead', () => {
  it('starts the next batch where a chain without gaps continues, and uses each batch read from where the last one ended', async () => {
    const { source, reads } = await chainOf(10)
    const report = await verifyAuditChain(source, { batchSize: 3 })
    expect(report).toMatchObject({ ok: true, rows: 10, lastSeq: 10n })
    // 0 and 3 at once, then one ahead per batch; the batch after 12 is never asked for (9 gave a short batch).
    expect(reads).toEqual([0n, 3n, 6n, 9n, 12n])
  })

  it('throws away a guess that missed and reads from where the chain really continues (a chain kept behind a checkpoint)', async () => {
    const { source, reads, chain } = await chainOf(10)
    const anchor = (await chain.readChain(3n, 1))[0]
    await chain.prune(4n)
    const checkpoint = { seq: 4n, hash: anchor?.hash as string, time: 'now', source: 'checkpoint-1' }
    const report = await verifyAuditChain(source, { batchSize: 3, checkpoints: [checkpoint] })
    expect(report).toMatchObject({ ok: true, rows: 6, firstSeq: 5n, lastSeq: 10n, checkpointsMatched: 0 })
    // The first batch held seqs 5 to 7, not 1 to 3: the guess at 3 was dropped and 7 read instead.
    expect(reads).toEqual([0n, 3n, 7n, 10n, 13n])
  })

  it('still names the first missing row when rows in the middle were deleted', async () => {
    const { chain } = await chainOf(10)
    const gapped: AuditChainSource = {
      readChain: async (afterSeq, limit) => {
        const rows = await chain.readChain(afterSeq, limit + 1)
        return rows.filter((row) => row.seq !== 5n).slice(0, limit)
      },
    }
    const report = await verifyAuditChain(gapped, { batchSize: 3 })
    expect(report.ok).toBe(false)
    expect(report.problem).toMatchObject({ seq: 6n })
    expect(report.problem?.reason).toMatch(/rows 5 to 5 are missing/)
  })
})
