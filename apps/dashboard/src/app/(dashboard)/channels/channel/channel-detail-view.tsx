'use client'

import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { AuditTable } from '@/components/audit-table'
import { CHANNEL_CHARTS } from '@/components/figure-chart-specs'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { LiveFigures } from '@/components/live-figures'
import { stalenessOf } from '@/components/stale-caption'
import { browserQueries } from '@/lib/browser-api'
import { formatCount, formatUtc } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'

/** One channel: its subscribers (durable ones too), its publications over time and the latest of them. */
export function ChannelDetailView({ channel }: { channel: string }) {
  const channels = useQuery(browserQueries.channels()).data
  const recent = useQuery(browserQueries.channelMessages(channel)).data
  const info = channels?.ok ? channels.data.channels.find((entry) => entry.name === channel) : undefined
  return (
    <section data-testid="channel-page" data-channel={channel}>
      <p className="muted small">
        <Link href="/channels">← All channels</Link>
      </p>
      <h1>
        Channel <span className="mono">{channel}</span>
      </h1>
      <GatewayErrorBanner failure={firstFailure(channels, recent)} />
      <dl className="facts" data-testid="channel-facts">
        <dt>Subscribers</dt>
        <dd data-testid="channel-page-subscribers">
          {formatCount(info?.subscribers ?? (channels?.ok ? 0 : null))}
        </dd>
        <dt>Of which durable</dt>
        <dd data-testid="channel-page-durable">
          {formatCount(info?.durableSubscribers ?? (channels?.ok ? 0 : null))}
        </dd>
        <dt>Messages since start (this node)</dt>
        <dd data-testid="channel-page-messages">
          {formatCount(info?.messages ?? (channels?.ok ? 0 : null))}
        </dd>
        <dt>Last message (UTC)</dt>
        <dd>{formatUtc(info?.lastMessageAt ?? null)}</dd>
      </dl>

      <LiveFigures
        heading="Publications over time"
        subject={{ channel }}
        charts={CHANNEL_CHARTS}
        testId="channel-charts"
      />

      <h2>Recent messages</h2>
      <AuditTable
        testId="channel-recent-messages"
        stale={stalenessOf(recent)}
        events={recent?.ok ? recent.data.events : []}
        emptyText={recent?.ok ? 'No publication recorded yet.' : 'Recent messages unavailable.'}
      />
      <p className="muted small">
        Publications as the audit trail records them (who, when, size, trace id): payloads are not kept ·
        refreshes every 2 seconds
      </p>
    </section>
  )
}
