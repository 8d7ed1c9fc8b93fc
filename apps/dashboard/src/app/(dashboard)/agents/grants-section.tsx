'use client'

import type { GrantInfo } from '@parley/protocol/admin'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { ActionNotice, type Notice } from '@/components/action-notice'
import { ConfirmButton } from '@/components/confirm-button'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { LiveTable } from '@/components/live-table'
import { PrincipalName } from '@/components/principal-name'
import { conversationHref, grantPartyName } from '@/lib/agents'
import { browserApi, browserQueries } from '@/lib/browser-api'
import { formatUtc } from '@/lib/format'
import { describeFailure, firstFailure } from '@/lib/gateway-result'
import { GRANTS_KEY } from '@/lib/queries'

const GRANT_COLUMNS = [
  { label: 'From' },
  { label: 'To' },
  { label: 'Reason' },
  { label: 'Created' },
  { label: 'Status' },
  { label: 'Actions' },
] as const

function Party({ party }: { party: GrantInfo['from'] }) {
  return (
    <>
      <span className="mono">{grantPartyName(party)}</span>
      <div className="muted small">
        <PrincipalName principal={party.principal} />
      </div>
    </>
  )
}

/** Live grants (accepted introductions), newest first; revoking one makes both parties introduce again. */
export function GrantsSection() {
  const queryClient = useQueryClient()
  const [showRevoked, setShowRevoked] = useState(false)
  const query = useQuery(browserQueries.grants(showRevoked))
  const result = query.data
  const grants = result?.ok ? result.data.grants : []
  const [notice, setNotice] = useState<Notice | undefined>(undefined)

  const revoke = useMutation({
    mutationFn: (grant: GrantInfo) => browserApi.revokeGrant(grant.id),
    onSuccess: (answer, grant) => {
      const what = `the grant between ${grantPartyName(grant.from)} and ${grantPartyName(grant.to)} (${grant.id})`
      setNotice(
        answer.ok
          ? {
              tone: 'ok',
              text: `Revoked ${what} at ${formatUtc(answer.data.revokedAt)}: both were told, and the next guarded action needs a new introduction.`,
            }
          : { tone: 'error', text: `Could not revoke ${what}. ${describeFailure(answer.failure)}` },
      )
      void queryClient.invalidateQueries({ queryKey: GRANTS_KEY })
    },
  })

  return (
    <section aria-labelledby="grants-heading" data-testid="grants-section">
      <div className="section-head">
        <h2 id="grants-heading">Grants</h2>
        <span className="muted small">accepted introductions, newest first · times in UTC</span>
      </div>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <ActionNotice notice={notice} testIdPrefix="grant-action" />
      <div className="filters">
        <label className="checkbox">
          <input
            type="checkbox"
            checked={showRevoked}
            onChange={(e) => setShowRevoked(e.target.checked)}
            data-testid="grants-show-revoked"
          />
          Show revoked grants
        </label>
      </div>
      <LiveTable
        testId="grants-table"
        columns={GRANT_COLUMNS}
        result={result}
        rowCount={grants.length}
        emptyText={showRevoked ? 'No grant yet.' : 'No live grant.'}
        unavailableText="Grants unavailable."
      >
        {grants.map((grant) => {
          const from = grantPartyName(grant.from)
          const to = grantPartyName(grant.to)
          return (
            <tr
              key={grant.id}
              data-testid="grant-row"
              data-grant-id={grant.id}
              aria-label={`Grant ${from} → ${to}`}
            >
              <td data-testid="grant-from">
                <Party party={grant.from} />
              </td>
              <td data-testid="grant-to">
                <Party party={grant.to} />
              </td>
              <td className="detail" data-testid="grant-reason">
                {grant.reason === null ? <span className="muted">—</span> : grant.reason}
              </td>
              <td className="nowrap">{formatUtc(grant.createdAt)}</td>
              <td data-testid="grant-status">
                {grant.revokedAt === null ? (
                  <span className="tag tag-ok">live</span>
                ) : (
                  <span className="tag tag-error" title={formatUtc(grant.revokedAt)}>
                    revoked {formatUtc(grant.revokedAt)}
                  </span>
                )}
              </td>
              <td>
                <div className="row-actions">
                  <a href={conversationHref(from, to)} data-testid="grant-conversation-link">
                    Conversation
                  </a>
                  {grant.revokedAt === null ? (
                    <ConfirmButton
                      label="Revoke"
                      question={`Revoke the grant between ${from} and ${to}?`}
                      confirmLabel="Revoke grant"
                      onConfirm={() => revoke.mutate(grant)}
                      disabled={revoke.isPending}
                      small
                      testId="grant-revoke"
                    />
                  ) : null}
                </div>
              </td>
            </tr>
          )
        })}
      </LiveTable>
    </section>
  )
}
