'use client'

import type { AgentSummary } from '@parley/protocol/admin'
import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { Badge } from '../../../components/badge'
import { TextFilter } from '../../../components/filter-fields'
import { GatewayErrorBanner } from '../../../components/gateway-error-banner'
import { LiveTable } from '../../../components/live-table'
import {
  agentStatusTone,
  conversationHref,
  filterAgentsByCapability,
  totalInFlight,
} from '../../../lib/agents'
import { browserQueries } from '../../../lib/browser-api'
import { formatAge, formatCount, secondsSince } from '../../../lib/format'
import { firstFailure } from '../../../lib/gateway-result'
import { GrantsSection } from './grants-section'

const AGENT_COLUMNS = [
  { label: 'Agent' },
  { label: 'Capabilities' },
  { label: 'Status' },
  { label: 'Connected since' },
  { label: 'Instances', numeric: true },
  { label: 'In flight', numeric: true },
  { label: 'Conversations' },
] as const

const INSTANCE_COLUMNS = [
  { label: 'Instance' },
  { label: 'Agent' },
  { label: 'Client id' },
  { label: 'Principal' },
  { label: 'Node' },
  { label: 'Status' },
  { label: 'In flight', numeric: true },
  { label: 'Last seen' },
] as const

/** `12s ago`, with the exact UTC time in the title. */
function Age({ epochMs, asOf, testId }: { epochMs: number; asOf: number; testId: string }) {
  return (
    <td className="nowrap" title={new Date(epochMs).toISOString()} data-testid={testId}>
      {formatAge(secondsSince(epochMs, asOf))}
    </td>
  )
}

/**
 * The agents registered on every node with their instances, live, and the grants (accepted
 * introductions) between them, which the operator can revoke.
 */
export function AgentsView() {
  const query = useQuery(browserQueries.agents())
  const result = query.data
  const [capability, setCapability] = useState('')
  const everyAgent: readonly AgentSummary[] = result?.ok ? result.data.agents : []
  const agents = filterAgentsByCapability(everyAgent, capability)
  const instances = agents.flatMap((agent) => agent.instances)
  const filtering = capability.trim() !== ''
  // Ages are counted from when the answer arrived, the same on the server render and in the browser.
  const asOf = query.dataUpdatedAt

  return (
    <section data-testid="agents-page">
      <h1>Agents</h1>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <div className="filters">
        <TextFilter
          label="Filter by capability"
          value={capability}
          onChange={setCapability}
          testId="agents-capability-filter"
        />
        <a className="button secondary" href={conversationHref('')} data-testid="agents-open-conversation">
          Open a conversation
        </a>
      </div>

      <LiveTable
        testId="agents-table"
        columns={AGENT_COLUMNS}
        result={result}
        rowCount={agents.length}
        emptyText={filtering ? 'No agent has a matching capability.' : 'No agent is registered.'}
        unavailableText="Agents unavailable."
      >
        {agents.map((agent) => (
          <tr key={agent.agentId} data-testid="agent-row" data-agent-id={agent.agentId}>
            <td className="mono" data-testid="agent-id">
              {agent.agentId}
            </td>
            <td className="mono" data-testid="agent-capabilities">
              {agent.capabilities.length === 0 ? (
                <span className="muted">none</span>
              ) : (
                agent.capabilities.join(', ')
              )}
            </td>
            <td>
              <Badge tone={agentStatusTone(agent.status)} testId="agent-status">
                {agent.status}
              </Badge>
            </td>
            <Age epochMs={agent.connectedSince} asOf={asOf} testId="agent-connected-since" />
            <td className="num" data-testid="agent-instances">
              {formatCount(agent.instances.length)}
            </td>
            <td className="num" data-testid="agent-in-flight">
              {formatCount(totalInFlight(agent))}
            </td>
            <td>
              <a href={conversationHref(agent.agentId)} data-testid="agent-conversation-link">
                Conversation with…
              </a>
            </td>
          </tr>
        ))}
      </LiveTable>
      <p className="muted small" data-testid="agents-count">
        {filtering ? `${agents.length} of ${everyAgent.length}` : agents.length} agents on every node ·
        refreshes every 2 seconds
      </p>

      <h2>Instances</h2>
      <LiveTable
        testId="agent-instances-table"
        columns={INSTANCE_COLUMNS}
        result={result}
        rowCount={instances.length}
        emptyText={filtering ? 'No instance has a matching capability.' : 'No instance is connected.'}
        unavailableText="Agents unavailable."
      >
        {instances.map((instance) => (
          <tr key={instance.instanceId} data-testid="instance-row" data-instance-id={instance.instanceId}>
            <td className="mono">{instance.instanceId}</td>
            <td className="mono">{instance.agentId}</td>
            <td className="mono">{instance.clientId}</td>
            <td data-testid="instance-principal">{instance.principal}</td>
            <td className="mono">{instance.node}</td>
            <td>
              <Badge tone={agentStatusTone(instance.status)} testId="instance-status">
                {instance.status}
              </Badge>
            </td>
            <td className="num" data-testid="instance-in-flight">
              {formatCount(instance.inFlight)}
            </td>
            <Age epochMs={instance.lastSeen} asOf={asOf} testId="instance-last-seen" />
          </tr>
        ))}
      </LiveTable>

      <GrantsSection />
    </section>
  )
}
