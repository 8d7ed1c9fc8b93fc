import type { KeyObject } from 'node:crypto'
import {
  AuditCheckpointError,
  checkAuditCheckpoint,
  createPostgresAuditChain,
  type ParleyDatabase,
  type TrustedCheckpoint,
  verifyAuditChain,
} from '@parley/stores'
import { readCheckpointFiles } from '../audit/audit-checkpoint-files.js'
import type { Output } from './token-commands.js'

export interface AuditVerifyInput {
  database: ParleyDatabase
  /** Checkpoint files or folders to check the chain against. */
  checkpointPaths: string[]
  /** Whether a missing checkpoint path is fine (the default folder before the first checkpoint). */
  checkpointsOptional: boolean
  /** Public keys a checkpoint may be signed with. */
  trustedKeys: KeyObject[]
}

/**
 * `parley audit verify`: checks every checkpoint file's signature, then walks the chain against them. Prints
 * what was verified, or the first bad row (or checkpoint) and why; resolves to whether all was well.
 */
export async function verifyAudit(input: AuditVerifyInput, output: Output): Promise<boolean> {
  const files = await readCheckpointFiles(input.checkpointPaths, { optional: input.checkpointsOptional })
  const checkpoints: TrustedCheckpoint[] = []
  for (const file of files) {
    try {
      checkpoints.push(checkAuditCheckpoint(file.value, file.source, input.trustedKeys))
    } catch (error) {
      if (!(error instanceof AuditCheckpointError)) throw error
      output.err(`Audit verification FAILED: ${error.message}`)
      return false
    }
  }
  const report = await verifyAuditChain(createPostgresAuditChain(input.database), { checkpoints })
  if (!report.ok) {
    output.err(`Audit verification FAILED: ${report.problem?.reason ?? 'unknown problem'}`)
    return false
  }
  const range =
    report.rows === 0 ? 'no chained rows' : `${report.rows} rows, seq ${report.firstSeq} to ${report.lastSeq}`
  const lines = [`Audit chain verified: ${range}`]
  if (report.lastHash !== undefined) lines.push(`  head hash    ${report.lastHash}`)
  lines.push(
    report.lastCheckpoint === undefined
      ? `  checkpoints  none matched (${files.length} read): rows at the end of the chain could have been deleted unseen`
      : `  checkpoints  ${report.checkpointsMatched} matched; verified up to checkpoint ${report.lastCheckpoint.source} (seq ${report.lastCheckpoint.seq}, signed ${report.lastCheckpoint.time})`,
  )
  output.out(lines.join('\n'))
  return true
}
