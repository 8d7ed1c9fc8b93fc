import { createPublicKey, type KeyObject } from 'node:crypto'
import type { AuditChainProblemInfo, AuditVerification } from '@parley/protocol'
import {
  type AuditChainStore,
  AuditCheckpointError,
  type AuditLog,
  checkAuditCheckpoint,
  type TrustedCheckpoint,
  verifyAuditChain,
} from '@parley/stores'
import { readCheckpointFiles } from './audit-checkpoint-files.js'
import { loadAuditSigningKey } from './audit-signing-key.js'

export interface AuditVerificationOptions {
  /** The open audit log; undefined (or one without a chain) while the stores are closed or the audit is off. */
  audit: () => AuditLog | undefined
  /** This node's checkpoint folder and signing key (`audit.checkpointDir`, `audit.signingKeyFile`). */
  dir: string
  signingKeyFile: string
  now?: () => Date
  /** A result younger than this is answered as it is (default 5 s). */
  maxAgeMs?: number
  /** The chain is walked from its start again at least this often (default 1 h); otherwise only new rows. */
  fullWalkMs?: number
}

/** How far the chain verified: where the next walk resumes, and what the walks so far matched. */
interface Progress {
  after: { seq: bigint; hash: string; id: string } | undefined
  rows: number
  firstSeq: bigint | undefined
  newest: TrustedCheckpoint | undefined
  matched: number
  /** Checkpoint files already compared with the chain. */
  checked: Set<string>
  startedAt: number
}

const seqText = (seq: bigint | undefined) => (seq === undefined ? null : seq.toString())

/**
 * The verification state behind the dashboard's "verified up to checkpoint N" (`GET /api/admin/audit/
 * verification`): the checks of `parley audit verify` against this node's checkpoint folder and key, kept
 * between calls. A call within `maxAgeMs` of the last walk gets its result; a later one walks only the rows
 * appended since (the first must follow the last verified row), compares checkpoint files signed since with
 * the rows they name, and walks the whole chain again after a failure or every `fullWalkMs`. One walk at a time.
 */
export function createAuditVerification(options: AuditVerificationOptions) {
  const now = options.now ?? (() => new Date())
  const maxAgeMs = options.maxAgeMs ?? 5_000
  const fullWalkMs = options.fullWalkMs ?? 60 * 60_000
  let key: KeyObject | undefined
  let progress: Progress | undefined
  let result: { value: AuditVerification; at: number } | undefined
  let walking: Promise<AuditVerification> | undefined

  const answer = (
    state: AuditVerification['state'],
    problem: AuditChainProblemInfo | null,
    kept: Progress | undefined,
  ): AuditVerification => ({
    state,
    rows: kept?.rows ?? 0,
    firstSeq: seqText(kept?.firstSeq),
    lastSeq: seqText(kept?.after?.seq),
    checkpoint:
      kept?.newest === undefined
        ? null
        : { seq: kept.newest.seq.toString(), file: kept.newest.source, time: kept.newest.time },
    checkpointsMatched: kept?.matched ?? 0,
    problem,
    checkedAt: now().toISOString(),
  })

  async function trustedCheckpoints(): Promise<TrustedCheckpoint[]> {
    if (key === undefined) {
      try {
        key = createPublicKey(await loadAuditSigningKey(options.signingKeyFile, { create: false }))
      } catch (error) {
        // No key yet (the audit is off, or it has not started): no checkpoint can be trusted.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw error
      }
    }
    const trusted = key
    const files = await readCheckpointFiles([options.dir], { optional: true })
    return files.map((file) => checkAuditCheckpoint(file.value, file.source, [trusted]))
  }

  /** Compares checkpoints at or before the last verified row, not compared yet, with the row they name. */
  async function spotCheck(
    chain: AuditChainStore,
    kept: Progress,
    checkpoints: TrustedCheckpoint[],
  ): Promise<AuditChainProblemInfo | undefined> {
    const through = kept.after?.seq ?? 0n
    for (const checkpoint of checkpoints) {
      if (kept.checked.has(checkpoint.source) || checkpoint.seq > through) continue
      kept.checked.add(checkpoint.source)
      const [row] = await chain.readChain(checkpoint.seq - 1n, 1)
      // Retention deleted it behind a later checkpoint: nothing left to compare.
      if (row === undefined || row.seq !== checkpoint.seq) continue
      if (row.hash !== checkpoint.hash) {
        return {
          rowId: row.id,
          seq: row.seq.toString(),
          reason: `row id ${row.id} (seq ${row.seq}) does not match checkpoint ${checkpoint.source} signed at ${checkpoint.time}: the chain was rewritten up to here`,
        }
      }
      kept.matched += 1
      if (kept.newest === undefined || checkpoint.seq > kept.newest.seq) kept.newest = checkpoint
    }
    return undefined
  }

  async function walk(): Promise<AuditVerification> {
    const chain = options.audit()?.chain
    if (chain === undefined) {
      return answer(
        'unavailable',
        { rowId: null, seq: null, reason: 'the audit log has no hash chain' },
        undefined,
      )
    }
    let checkpoints: TrustedCheckpoint[]
    try {
      checkpoints = await trustedCheckpoints()
    } catch (error) {
      if (!(error instanceof AuditCheckpointError)) throw error
      progress = undefined
      return answer('failed', { rowId: null, seq: null, reason: error.message }, undefined)
    }
    const at = now().getTime()
    if (progress === undefined || at - progress.startedAt >= fullWalkMs) {
      progress = {
        after: undefined,
        rows: 0,
        firstSeq: undefined,
        newest: undefined,
        matched: 0,
        checked: new Set(),
        startedAt: at,
      }
    }
    const kept = progress
    const spotted = await spotCheck(chain, kept, checkpoints)
    const report = spotted
      ? undefined
      : await verifyAuditChain(chain, {
          checkpoints,
          ...(kept.after === undefined ? {} : { after: kept.after }),
        })
    if (report === undefined || !report.ok) {
      progress = undefined
      const found = report?.problem
      const problem = spotted ?? {
        rowId: found?.rowId ?? null,
        seq: seqText(found?.seq),
        reason: found?.reason ?? 'unknown problem',
      }
      return answer('failed', problem, kept)
    }
    kept.rows += report.rows
    kept.firstSeq ??= report.firstSeq
    if (report.lastSeq !== undefined && report.lastHash !== undefined && report.lastId !== undefined) {
      kept.after = { seq: report.lastSeq, hash: report.lastHash, id: report.lastId }
    }
    // The walk met every checkpoint past the previous resume point; those are compared now.
    for (const checkpoint of checkpoints) kept.checked.add(checkpoint.source)
    kept.matched += report.checkpointsMatched
    const newest = report.lastCheckpoint
    if (newest !== undefined && (kept.newest === undefined || newest.seq > kept.newest.seq))
      kept.newest = newest
    return answer('verified', null, kept)
  }

  return {
    /** The kept result, or a fresh one when it is older than `maxAgeMs`. */
    async current(): Promise<AuditVerification> {
      if (result !== undefined && now().getTime() - result.at < maxAgeMs) return result.value
      walking ??= walk()
        .then((value) => {
          result = { value, at: now().getTime() }
          return value
        })
        .finally(() => {
          walking = undefined
        })
      return walking
    },
  }
}

export type AuditVerifier = ReturnType<typeof createAuditVerification>
