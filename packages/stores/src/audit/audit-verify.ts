import {
  type AuditChainSource,
  type ChainedAuditRow,
  canonicalAuditRow,
  chainHash,
  GENESIS_HASH,
  sha256Hex,
} from './audit-chain.js'

/** A checkpoint whose signature was already checked: the chain had `hash` at position `seq`. */
export interface TrustedCheckpoint {
  seq: bigint
  hash: string
  time: string
  /** Where it came from (a file name), for messages. */
  source: string
}

export interface VerifyAuditChainOptions {
  checkpoints?: TrustedCheckpoint[]
  /** Rows read per query; the walk never holds more than this many. Default 5,000. */
  batchSize?: number
  /**
   * Resumes a walk that verified the chain up to this row (its seq and hash): only the rows after it are read
   * and counted, the first of them must follow it. The gateway's cached verification walks this way.
   */
  after?: { seq: bigint; hash: string; id: string }
}

/** The first place the chain is broken. */
export interface AuditChainProblem {
  /** The row named, when the problem is at a row. */
  rowId?: string
  seq?: bigint
  reason: string
}

export interface AuditChainReport {
  ok: boolean
  /** Chained rows read. */
  rows: number
  firstSeq: bigint | undefined
  lastSeq: bigint | undefined
  lastHash: string | undefined
  /** The id of the row at `lastSeq` (to resume a walk with `after`). */
  lastId: string | undefined
  /** Checkpoints the walk met and matched (those behind retention are not counted). */
  checkpointsMatched: number
  /** The newest checkpoint matched, if any. */
  lastCheckpoint: TrustedCheckpoint | undefined
  problem?: AuditChainProblem
}

const NO_CHECKPOINTS: readonly TrustedCheckpoint[] = []

const describeRow = (row: Pick<ChainedAuditRow, 'id' | 'seq'>) => `row id ${row.id} (seq ${row.seq})`

/**
 * Walks the chain oldest first, `batchSize` rows at a time, and stops at the first broken link: a row whose
 * contents do not give its hash (changed), a prev_hash that is not the previous row's hash (a row inserted,
 * deleted or moved), a gap in seq (rows deleted), a row that disagrees with a signed checkpoint (hashes
 * recomputed), a chain that ends before the newest checkpoint (rows deleted at the end), a start after seq 1
 * that no checkpoint anchors, or a row outside the chain written after it began.
 */
export async function verifyAuditChain(
  source: AuditChainSource,
  options: VerifyAuditChainOptions = {},
): Promise<AuditChainReport> {
  const batchSize = Math.max(1, Math.trunc(options.batchSize ?? 5_000))
  const checkpoints = [...(options.checkpoints ?? [])].sort((a, b) => (a.seq < b.seq ? -1 : 1))
  const bySeq = new Map<bigint, TrustedCheckpoint[]>()
  for (const checkpoint of checkpoints) {
    bySeq.set(checkpoint.seq, [...(bySeq.get(checkpoint.seq) ?? []), checkpoint])
  }
  const report: AuditChainReport = {
    ok: false,
    rows: 0,
    firstSeq: undefined,
    lastSeq: undefined,
    lastHash: undefined,
    lastId: undefined,
    checkpointsMatched: 0,
    lastCheckpoint: undefined,
  }
  const fail = (problem: AuditChainProblem): AuditChainReport => ({ ...report, ok: false, problem })

  let previous: Pick<ChainedAuditRow, 'id' | 'seq' | 'hash'> | undefined = options.after
  const reads = new ChainReads(source, batchSize)
  try {
    let next = reads.read(options.after?.seq ?? 0n)
    for (;;) {
      const batch = await next
      const last = batch.at(-1)
      const more = last !== undefined && batch.length >= batchSize
      // The next reads run in the database while this batch is hashed: two turns of the event loop first, so
      // they reach the database before the synchronous loop below holds the event loop (the driver sends a
      // query from a setImmediate queued by the read's microtasks: after the first turn's).
      if (more) {
        next = reads.read(last.seq)
        await new Promise<void>((resolve) => setImmediate(resolve))
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      for (const row of batch) {
        if (previous === undefined) {
          const problem = checkStart(row, bySeq)
          if (problem !== undefined) return fail(problem)
          report.firstSeq = row.seq
        } else if (row.seq === previous.seq) {
          return fail({
            rowId: row.id,
            seq: row.seq,
            reason: `${describeRow(row)} shares its seq with row id ${previous.id}`,
          })
        } else if (row.seq !== previous.seq + 1n) {
          return fail({
            rowId: row.id,
            seq: row.seq,
            reason: `${describeRow(row)} follows seq ${previous.seq}: rows ${previous.seq + 1n} to ${row.seq - 1n} are missing (deleted)`,
          })
        } else if (row.prevHash !== previous.hash) {
          return fail({
            rowId: row.id,
            seq: row.seq,
            reason: `${describeRow(row)}: prev_hash is not the hash of the row before it (id ${previous.id}): a row was inserted, deleted or moved here`,
          })
        }
        if (chainHash(row.prevHash, row.seq, sha256Hex(canonicalAuditRow(row))) !== row.hash) {
          return fail({
            rowId: row.id,
            seq: row.seq,
            reason: `${describeRow(row)}: its hash does not match its contents: the row was changed`,
          })
        }
        // Without checkpoints (or between them) no lookup and no allocation per row.
        const atCheckpoint = bySeq.size === 0 ? undefined : bySeq.get(row.seq)
        for (const checkpoint of atCheckpoint ?? NO_CHECKPOINTS) {
          if (checkpoint.hash !== row.hash) {
            return fail({
              rowId: row.id,
              seq: row.seq,
              reason: `${describeRow(row)} does not match checkpoint ${checkpoint.source} signed at ${checkpoint.time}: the chain was rewritten up to here`,
            })
          }
          report.checkpointsMatched += 1
          report.lastCheckpoint = checkpoint
        }
        report.rows += 1
        report.lastSeq = row.seq
        report.lastHash = row.hash
        report.lastId = row.id
        previous = row
      }
      if (!more) break
    }
  } finally {
    await reads.settle()
  }

  const newest = checkpoints.at(-1)
  const lastSeq = report.lastSeq ?? options.after?.seq ?? 0n
  if (newest !== undefined && newest.seq > lastSeq) {
    return fail({
      ...(previous === undefined ? {} : { rowId: previous.id }),
      seq: lastSeq,
      reason:
        previous === undefined
          ? `the chain is empty but checkpoint ${newest.source} signed ${newest.seq} rows: they were deleted`
          : `the chain ends at ${describeRow(previous)} but checkpoint ${newest.source} signed seq ${newest.seq}: the last ${newest.seq - lastSeq} rows were deleted`,
    })
  }
  const inserted = await source.unchainedInsertion?.()
  if (inserted !== undefined) {
    return fail({
      rowId: inserted,
      reason: `row id ${inserted} has no place in the chain: it was inserted by hand`,
    })
  }
  return { ...report, ok: true }
}

/**
 * The verifier's reads, one batch ahead of what it asked for: `read(after)` returns the batch after `after` and
 * starts, unasked, the one after `after + batchSize` (where the next batch of a chain without gaps starts), so
 * the database builds it while the event loop parses and hashes this one. A guess that proves wrong (a gap, a
 * short or a doubled batch) is thrown away and the right batch read then: every batch the walk uses was read
 * with the `after` a sequential walk would have given.
 */
class ChainReads {
  private ahead: { after: bigint; batch: Promise<ChainedAuditRow[]> } | undefined

  constructor(
    private readonly source: AuditChainSource,
    private readonly batchSize: number,
  ) {}

  read(after: bigint): Promise<ChainedAuditRow[]> {
    // A wrong guess is dropped (it still runs; its rows are never used).
    const guessed = this.ahead?.after === after ? this.ahead.batch : undefined
    const batch = guessed ?? this.source.readChain(after, this.batchSize)
    const nextAfter = after + BigInt(this.batchSize)
    const ahead = this.source.readChain(nextAfter, this.batchSize)
    // Failures surface when the batch is used; one never used must not be an unhandled rejection.
    ahead.catch(() => {})
    this.ahead = { after: nextAfter, batch: ahead }
    return batch
  }

  /** Waits for a read still running (the caller may close the database next); its outcome is not needed. */
  async settle(): Promise<void> {
    await this.ahead?.batch.catch(() => {})
    this.ahead = undefined
  }
}

/** The first row must be seq 1 after the genesis hash, or sit right after a checkpoint (retention). */
function checkStart(
  row: ChainedAuditRow,
  bySeq: Map<bigint, TrustedCheckpoint[]>,
): AuditChainProblem | undefined {
  if (row.seq === 1n) {
    if (row.prevHash === GENESIS_HASH) return undefined
    return {
      rowId: row.id,
      seq: row.seq,
      reason: `${describeRow(row)}: the first row's prev_hash is not the genesis hash`,
    }
  }
  const anchors = bySeq.get(row.seq - 1n) ?? []
  if (anchors.some((checkpoint) => checkpoint.hash === row.prevHash)) return undefined
  return {
    rowId: row.id,
    seq: row.seq,
    reason:
      anchors.length === 0
        ? `the chain starts at ${describeRow(row)}: rows 1 to ${row.seq - 1n} are missing and no signed checkpoint at seq ${row.seq - 1n} covers them`
        : `the chain starts at ${describeRow(row)}, whose prev_hash does not match the checkpoint at seq ${row.seq - 1n}`,
  }
}
