'use client'

import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { Badge } from '@/components/badge'
import { AGENT_CHARTS } from '@/components/figure-chart-specs'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { IdCell } from '@/components/id-cell'
import { LiveFigures } from '@/components/live-figures'
import { LiveTable } from '@/components/live-table'
import { agentStatusTone, conversationHref } from '@/lib/agents'
import { browserQueries } from '@/lib/browser-api'
import { formatCount, formatUtc } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'
import { InstanceMetadata } from '../instance-metadata'

const INSTANCE_COLUMNS = [
  { label: 'Instance' },
  { label: 'Node' },
  { label: 'Status' },
  { label: 'In flight', numeric: true },
  { label: 'Last seen (UTC)' },
  { label: 'Metadata' },
] as const

const CALLER_COLUMNS = [
  { label: 'Caller' },
  { label: 'Requests', numeric: true },
  { label: 'Errors', numeric: true },
  { label: 'Conversation' },
] as const

/** One agent: its instances and their metadata, its request figures over time and its top callers. */
export function AgentDetailView({ agentId }: { agentId: string }) {
  const agents = useQuery(browserQueries.agents()).data
  const figures = useQuery(browserQueries.timeseries({ agent: agentId })).data
  const agent = agents?.ok ? agents.data.agents.find((entry) => entry.agentId === agentId) : undefined
  const callers = figures?.ok ? figures.data.topCallers : []
  return (
    <section data-testid="agent-page" data-agent-id={agentId}>
      <p className="muted small">
        <Link href="/agents">← All agents</Link>
      </p>
      <h1>
        Agent <span className="mono">{agentId}</span>
      </h1>
      <GatewayErrorBanner failure={firstFailure(agents)} />
      {agents?.ok && agent === undefined ? (
        <p className="banner banner-warning" data-testid="agent-not-registered">
          No instance of this agent is registered now; its recent figures follow.
        </p>
      ) : null}
      {agent === undefined ? null : (
        <dl className="facts" data-testid="agent-facts">
          <dt>Status</dt>
          <dd>
            <Badge tone={agentStatusTone(agent.status)} testId="agent-page-status">
              {agent.status}
            </Badge>
          </dd>
          <dt>Capabilities</dt>
          <dd className="mono">{agent.capabilities.join(', ') || '—'}</dd>
          <dt>Instances</dt>
          <dd data-testid="agent-page-instances">{formatCount(agent.instances.length)}</dd>
        </dl>
      )}

      <LiveFigures
        heading="Requests over time"
        subject={{ agent: agentId }}
        charts={AGENT_CHARTS}
        testId="agent-charts"
      />

      <h2>Top callers (last 15 minutes)</h2>
      <LiveTable
        testId="agent-top-callers"
        columns={CALLER_COLUMNS}
        result={figures}
        rowCount={callers.length}
        emptyText="No requests in the last 15 minutes."
        unavailableText="Figures unavailable."
      >
        {callers.map((caller) => (
          <tr key={caller.caller ?? ''} data-testid="top-caller-row" data-caller={caller.caller ?? ''}>
            <td className="mono">
              {caller.caller === null ? 'plain clients' : caller.caller === '*' ? 'others' : caller.caller}
            </td>
            <td className="num" data-testid="top-caller-requests">
              {formatCount(caller.requests)}
            </td>
            <td className="num">{formatCount(caller.errors)}</td>
            <td>
              {caller.caller === null || caller.caller === '*' ? (
                <span className="muted">—</span>
              ) : (
                <a href={conversationHref(caller.caller, agentId)}>open</a>
              )}
            </td>
          </tr>
        ))}
      </LiveTable>

      <h2>Instances</h2>
      <LiveTable
        testId="agent-page-instances-table"
        columns={INSTANCE_COLUMNS}
        result={agents}
        rowCount={agent?.instances.length ?? 0}
        emptyText="No instance is connected."
        unavailableText="Agents unavailable."
      >
        {(agent?.instances ?? []).map((instance) => (
          <tr key={instance.instanceId} data-testid="agent-page-instance-row">
            <td>
              <IdCell id={instance.instanceId} />
            </td>
            <td>
              <IdCell id={instance.node} />
            </td>
            <td>
              <Badge tone={agentStatusTone(instance.status)}>{instance.status}</Badge>
            </td>
            <td className="num">{formatCount(instance.inFlight)}</td>
            <td className="nowrap">{formatUtc(new Date(instance.lastSeen).toISOString())}</td>
            <td>
              <InstanceMetadata metadata={instance.metadata} />
            </td>
          </tr>
        ))}
      </LiveTable>
    </section>
  )
}
