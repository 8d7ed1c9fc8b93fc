'use client'

import type { DashboardSessionInfo } from '@parley/protocol/admin'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import type { Notice } from '@/components/action-notice'
import { ConfirmButton } from '@/components/confirm-button'
import { browserApi, browserQueries } from '@/lib/browser-api'
import { formatUtc } from '@/lib/format'
import { describeFailure } from '@/lib/gateway-result'
import { SESSIONS_KEY } from '@/lib/queries'

/**
 * Dashboard logins (opaque sessions the gateway keeps hashed): who, from where, since when, until when.
 * One can be ended, or all of them ("log out everywhere", this browser included: it goes to the login page).
 */
export function SessionsSection({ onNotice }: { onNotice: (notice: Notice) => void }) {
  const queryClient = useQueryClient()
  const sessionsQuery = useQuery(browserQueries.sessions())
  const sessions = sessionsQuery.data?.ok ? sessionsQuery.data.data.sessions : []

  const revokeOne = useMutation({
    mutationFn: (session: DashboardSessionInfo) => browserApi.revokeSession(session.id),
    onSuccess: (result, session) => {
      onNotice(
        result.ok
          ? { tone: 'ok', text: `Ended the session ${session.id}.` }
          : { tone: 'error', text: `Could not end ${session.id}. ${describeFailure(result.failure)}` },
      )
      void queryClient.invalidateQueries({ queryKey: SESSIONS_KEY })
    },
  })

  const revokeAll = useMutation({
    mutationFn: () => browserApi.revokeAllSessions(),
    onSuccess: (result) => {
      if (!result.ok) {
        onNotice({ tone: 'error', text: `Could not log out everywhere. ${describeFailure(result.failure)}` })
        return
      }
      // This browser's session ended too.
      window.location.assign('/login')
    },
  })

  return (
    <>
      <div className="section-head">
        <h2>Dashboard sessions</h2>
        <span className="muted small">live logins · refreshes every 2 seconds · times in UTC</span>
        <ConfirmButton
          label="Log out everywhere"
          question="End every dashboard session, this one included?"
          confirmLabel="Log out everywhere"
          disabled={revokeAll.isPending}
          small
          onConfirm={() => revokeAll.mutate()}
          testId="sessions-revoke-all"
        />
      </div>
      <div className="table-wrap">
        <table className="table" data-testid="sessions-table">
          <thead>
            <tr>
              <th>Who</th>
              <th>Browser</th>
              <th>Address</th>
              <th>Logged in</th>
              <th>Last seen</th>
              <th>Expires</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {sessions.length === 0 ? (
              <tr>
                <td colSpan={7} className="empty">
                  {sessionsQuery.isPending ? 'Loading…' : 'No live session.'}
                </td>
              </tr>
            ) : (
              sessions.map((session) => (
                <tr key={session.id} data-testid="session-row" data-session-id={session.id}>
                  <td>
                    {session.principal}
                    {session.current ? (
                      <span className="tag" data-testid="session-current">
                        this browser
                      </span>
                    ) : null}
                    <div className="muted small mono">{session.id}</div>
                  </td>
                  <td className="detail">{session.userAgent ?? '—'}</td>
                  <td className="mono">{session.address ?? '—'}</td>
                  <td className="nowrap">{formatUtc(session.createdAt)}</td>
                  <td className="nowrap">{formatUtc(session.lastSeenAt)}</td>
                  <td className="nowrap">{formatUtc(session.expiresAt)}</td>
                  <td>
                    {session.current ? null : (
                      <ConfirmButton
                        label="End"
                        question="End this session?"
                        confirmLabel="End"
                        disabled={revokeOne.isPending}
                        small
                        onConfirm={() => revokeOne.mutate(session)}
                        testId="session-revoke"
                      />
                    )}
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </>
  )
}
