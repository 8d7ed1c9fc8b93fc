'use client'

import type { AuditVerification } from '@parley/protocol/admin'
import { useQuery } from '@tanstack/react-query'
import { Badge } from '@/components/badge'
import { browserQueries } from '@/lib/browser-api'
import { formatUtc } from '@/lib/format'
import type { StatusTone } from '@/lib/presence'

/** What the badge says, and its tone: green when verified up to a signed checkpoint. */
export function describeVerification(verification: AuditVerification): { text: string; tone: StatusTone } {
  if (verification.state === 'failed') {
    return { text: 'Audit chain verification FAILED', tone: 'error' }
  }
  if (verification.state === 'unavailable') return { text: 'Audit chain not verifiable', tone: 'neutral' }
  if (verification.checkpoint === null) {
    return { text: `Chain intact (${verification.rows} rows), no signed checkpoint yet`, tone: 'warn' }
  }
  return { text: `Verified up to checkpoint ${verification.checkpoint.seq}`, tone: 'ok' }
}

/**
 * "Verified up to checkpoint N" above the audit trail (`GET /api/admin/audit/verification`: the gateway's
 * kept walk of the hash chain against its signed checkpoints), with the first bad row when it fails.
 */
export function AuditVerificationBadge() {
  const result = useQuery(browserQueries.auditVerification()).data
  if (result === undefined || !result.ok) return null
  const verification = result.data
  const { text, tone } = describeVerification(verification)
  return (
    <div className="audit-verification" data-testid="audit-verification" data-state={verification.state}>
      <Badge tone={tone} testId="audit-verification-badge">
        {text}
      </Badge>{' '}
      <span className="muted small">
        {verification.checkpoint === null
          ? null
          : `${verification.checkpoint.file}, signed ${formatUtc(verification.checkpoint.time)} · `}
        {verification.lastSeq === null ? 'no chained rows' : `rows up to seq ${verification.lastSeq}`} ·
        checked {formatUtc(verification.checkedAt)}
      </span>
      {verification.problem === null ? null : (
        <p className="banner banner-error" data-testid="audit-verification-problem">
          {verification.problem.reason}
        </p>
      )}
    </div>
  )
}
