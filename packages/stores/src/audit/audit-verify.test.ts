import { describe, expect, it } from 'vitest'
import type { AuditChainSource } from './audit-chain.js'
import { verifyAuditChain } from './audit-verify.js'
import { createMemoryAuditLog } from './memory-audit-log.js'

/** A memory log's chain with `count` rows, recording where each read starts. */
async function chainOf(count: number) {
  const log = createMemoryAuditLog()
  for (let index = 0; index < count; index += 1) {
    log.record({ kind: 'publish', outcome: 'ok', principal: 'p', channel: 'news', detail: `row ${index}` })
  }
  const chain = log.chain as AuditChainSource
  const reads: bigint[] = []
  const source: AuditChainSource = {
    readChain: async (afterSeq, limit) => {
      reads.push(afterSeq)
      return chain.readChain(afterSeq, limit)
    },
  }
  return { source, reads }
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
    expect(reads).toEqual([5n])
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
