import type { AuditVerification } from '@parley/protocol/admin'
import { describe, expect, it } from 'vitest'
import { describeVerification } from './audit-verification-badge'

const base: AuditVerification = {
  state: 'verified',
  rows: 12,
  firstSeq: '1',
  lastSeq: '12',
  checkpoint: { seq: '10', file: 'checkpoint-00000000000000000010.json', time: '2026-03-01T12:00:00.000Z' },
  checkpointsMatched: 1,
  problem: null,
  checkedAt: '2026-03-01T12:00:05.000Z',
}

describe('the audit verification badge', () => {
  it('says verified up to the newest matched checkpoint, in green', () => {
    expect(describeVerification(base)).toEqual({ text: 'Verified up to checkpoint 10', tone: 'ok' })
  })

  it('warns when the chain holds but no signed checkpoint vouches for it yet', () => {
    expect(describeVerification({ ...base, checkpoint: null })).toEqual({
      text: 'Chain intact (12 rows), no signed checkpoint yet',
      tone: 'warn',
    })
  })

  it('says FAILED in red when a row or checkpoint is bad', () => {
    const failed = { ...base, state: 'failed' as const, problem: { rowId: '7', seq: '7', reason: 'changed' } }
    expect(describeVerification(failed)).toEqual({ text: 'Audit chain verification FAILED', tone: 'error' })
  })
})
