'use client'

import { useQuery } from '@tanstack/react-query'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { LiveTable } from '@/components/live-table'
import { channelHref } from '@/lib/agents'
import { browserQueries } from '@/lib/browser-api'
import { formatCount, formatUtc } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'

const CHANNEL_COLUMNS = [
  { label: 'Name' },
  { label: 'Subscribers', numeric: true },
  { label: 'Of which durable', numeric: true },
  { label: 'Messages', numeric: true },
  { label: 'Last message' },
] as const

export function ChannelsView() {
  const result = useQuery(browserQueries.channels()).data
  const channels = result?.ok ? result.data.channels : []

  return (
    <section>
      <h1>Channels</h1>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <LiveTable
        testId="channels-table"
        columns={CHANNEL_COLUMNS}
        result={result}
        rowCount={channels.length}
        emptyText="No channels yet."
        unavailableText="Channels unavailable."
      >
        {channels.map((channel) => (
          <tr key={channel.name} data-testid="channel-row" data-channel={channel.name}>
            <td className="mono">
              <a href={channelHref(channel.name)} data-testid="channel-link">
                {channel.name}
              </a>
            </td>
            <td className="num" data-testid="channel-subscribers">
              {formatCount(channel.subscribers)}
            </td>
            <td className="num" data-testid="channel-durable-subscribers">
              {formatCount(channel.durableSubscribers)}
            </td>
            <td className="num">{formatCount(channel.messages)}</td>
            <td className="nowrap">{formatUtc(channel.lastMessageAt)}</td>
          </tr>
        ))}
      </LiveTable>
      <p className="muted small">
        {channels.length} channels · subscribers are live ones on this node plus durable ones (client ids that
        get every publication as an acknowledged delivery, connected or not) · refreshes every 2 seconds ·
        times in UTC
      </p>
    </section>
  )
}
