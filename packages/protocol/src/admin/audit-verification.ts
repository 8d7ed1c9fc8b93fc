import { z } from 'zod'

/**
 * `GET /api/admin/audit/verification`: how far the audit hash chain verifies against this node's signed
 * checkpoints, as `parley audit verify` would say. The gateway keeps the result and walks only the rows appended
 * since (with a full walk now and then), so asking is cheap.
 */

/** A signed checkpoint the chain matched. `seq` is the chain position it signs (its row count). */
export const VerifiedCheckpoint = z.object({
  seq: z.string(),
  /** Its file name in the checkpoint folder. */
  file: z.string(),
  /** When it was signed (ISO 8601). */
  time: z.string(),
})
export type VerifiedCheckpoint = z.infer<typeof VerifiedCheckpoint>

export const AuditChainProblemInfo = z.object({
  rowId: z.string().nullable(),
  seq: z.string().nullable(),
  reason: z.string(),
})
export type AuditChainProblemInfo = z.infer<typeof AuditChainProblemInfo>

/**
 * `verified`: the chain holds up to `lastSeq`; `failed`: `problem` names the first bad row or checkpoint;
 * `unavailable`: the audit log is off or has no chain (an injected log), `problem` says why.
 * Sequence numbers are decimal strings (they may pass 2^53).
 */
export const AuditVerification = z.object({
  state: z.enum(['verified', 'failed', 'unavailable']),
  /** Chained rows verified (those retention deleted behind a checkpoint are not counted). */
  rows: z.number().int().nonnegative(),
  firstSeq: z.string().nullable(),
  lastSeq: z.string().nullable(),
  /** The newest signed checkpoint the chain matched: "verified up to checkpoint <seq>". */
  checkpoint: VerifiedCheckpoint.nullable(),
  checkpointsMatched: z.number().int().nonnegative(),
  problem: AuditChainProblemInfo.nullable(),
  /** When the chain was last walked (ISO 8601). */
  checkedAt: z.string(),
})
export type AuditVerification = z.infer<typeof AuditVerification>
