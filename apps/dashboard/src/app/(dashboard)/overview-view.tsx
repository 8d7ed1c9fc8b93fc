'use client'

import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { AuditTable } from '@/components/audit-table'
import { GATEWAY_CHARTS } from '@/components/figure-chart-specs'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { LiveFigures } from '@/components/live-figures'
import { stalenessOf } from '@/components/stale-caption'
import { browserQueries } from '@/lib/browser-api'
import { connectionCounts, describeConnectionCounts } from '@/lib/connection-counts'
import { formatCount, formatUptime } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'
import { RECENT_AUDIT_LIMIT } from '@/lib/queries'

export function OverviewView() {
  const health = useQuery(browserQueries.health()).data
  const connections = useQuery(browserQueries.connections()).data
  const channels = useQuery(browserQueries.channels()).data
  const recent = useQuery(browserQueries.recentAudit()).data
  const failure = firstFailure(health, connections, channels, recent)

  // A kept (stale) health answer is not the gateway's state now: it could not be asked.
  const status =
    health === undefined ? 'loading' : health.ok && !health.stale ? health.data.status : 'unreachable'
  const healthData = health?.ok ? health.data : undefined
  // One connection count on the page: the list's (open, waiting for pairing and the rest), /health's otherwise.
  const counts = connections?.ok ? connectionCounts(connections.data) : undefined
  const connectionTotal = counts?.total ?? healthData?.connections ?? null

  return (
    <section>
      <h1>Overview</h1>
      <GatewayErrorBanner failure={failure} />
      <div className="cards">
        <div className="card" data-testid="health-card">
          <h2>Gateway health</h2>
          <p className="card-value">
            <span className={`status status-${status}`} data-testid="health-status">
              {status}
            </span>
          </p>
          <dl className="facts">
            <dt>Connections</dt>
            <dd data-testid="health-connections">{formatCount(connectionTotal)}</dd>
            <dt>Connected agents</dt>
            <dd>{formatCount(healthData?.connected_agents ?? null)}</dd>
            <dt>Uptime</dt>
            <dd data-testid="health-uptime">
              {healthData === undefined ? '—' : formatUptime(healthData.uptime_s)}
            </dd>
            <dt>Version</dt>
            <dd data-testid="health-version">{healthData?.version ?? '—'}</dd>
          </dl>
        </div>
        <Link href="/connections" className="card card-link" data-testid="connections-count">
          <h2>Connections</h2>
          <p className="card-value" data-testid="connections-count-value">
            {formatCount(counts?.total ?? null)}
          </p>
          <p className="muted small" data-testid="connections-count-parts">
            {counts === undefined ? 'now' : describeConnectionCounts(counts)}
          </p>
        </Link>
        <Link href="/channels" className="card card-link" data-testid="channels-count">
          <h2>Channels</h2>
          <p className="card-value">{formatCount(channels?.ok ? channels.data.channels.length : null)}</p>
          <p className="muted small">known to the gateway</p>
        </Link>
      </div>
      {counts !== undefined && counts.pairing > 0 ? (
        <p className="banner banner-warning" data-testid="overview-pairing-waiting">
          {formatCount(counts.pairing)} {counts.pairing === 1 ? 'device is' : 'devices are'} connected and
          waiting for pairing approval: <Link href="/connections">see them</Link> or{' '}
          <Link href="/pairing">approve on the Pairing page</Link>.
        </p>
      ) : null}

      <LiveFigures heading="Live figures" charts={GATEWAY_CHARTS} testId="overview-charts" />

      <div className="section-head">
        <h2>Latest audit events</h2>
        <Link href="/audit" className="muted small">
          Full audit trail →
        </Link>
      </div>
      <AuditTable
        testId="recent-audit-table"
        stale={stalenessOf(recent)}
        events={recent?.ok ? recent.data.events.slice(0, RECENT_AUDIT_LIMIT) : []}
        emptyText={recent?.ok ? 'No audit events yet.' : 'Audit events unavailable.'}
      />
      <p className="muted small">Refreshes every 2 seconds.</p>
    </section>
  )
}
