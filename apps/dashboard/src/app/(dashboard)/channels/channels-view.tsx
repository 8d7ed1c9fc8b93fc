'use client'

import { useQuery } from '@tanstack/react-query'
import { GatewayErrorBanner } from '../../../components/gateway-error-banner'
import { browserQueries } from '../../../lib/browser-api'
import { formatCount, formatUtc } from '../../../lib/format'
import { firstFailure } from '../../../lib/gateway-result'

export function ChannelsView() {
  const result = useQuery(browserQueries.channels()).data
  const channels = result?.ok ? result.data.channels : []

  return (
    <section>
      <h1>Channels</h1>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <div className="table-wrap">
        <table className="table" data-testid="channels-table">
          <thead>
            <tr>
              <th>Name</th>
              <th className="num">Subscribers</th>
              <th className="num">Messages</th>
              <th>Last message</th>
            </tr>
          </thead>
          <tbody>
            {channels.length === 0 ? (
              <tr>
                <td colSpan={4} className="empty">
                  {result === undefined
                    ? 'Loading…'
                    : result.ok
                      ? 'No channels yet.'
                      : 'Channels unavailable.'}
                </td>
              </tr>
            ) : (
              channels.map((channel) => (
                <tr key={channel.name} data-testid="channel-row">
                  <td className="mono">{channel.name}</td>
                  <td className="num">{formatCount(channel.subscribers)}</td>
                  <td className="num">{formatCount(channel.messages)}</td>
                  <td className="nowrap">{formatUtc(channel.lastMessageAt)}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
      <p className="muted small">{channels.length} channels · refreshes every 2 seconds · times in UTC</p>
    </section>
  )
}
