'use client'

import type { AgentSummary } from '@parley/protocol/admin'
import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { Badge } from '@/components/badge'
import { TextFilter } from '@/components/filter-fields'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { IdCell } from '@/components/id-cell'
import { LiveTable } from '@/components/live-table'
import { PrincipalName } from '@/components/principal-name'
import {
  agentHref,
  agentStatusTone,
  conversationHref,
  filterAgentsByCapability,
  totalInFlight,
} from '@/lib/agents'
import { browserQueries } from '@/lib/browser-api'
import { formatAge, formatCount, secondsSince } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'
import { AGENT_KIND_LABELS, agentKindOf, describedCapabilities } from '@/lib/upstreams'
import { A2aAgentsSection } from './a2a-agents-section'
import { ConversationLinks } from './conversation-links'
import { GrantsSection } from './grants-section'
import { InstanceMetadata } from './instance-metadata'

const AGENT_COLUMNS = [
  { label: 'Agent' },
  { label: 'Kind' },
  { label: 'Capabilities' },
  { label: 'Status' },
  { label: 'Connected since' },
  { label: 'Instances', numeric: true },
  { label: 'In flight', numeric: true },
  { label: 'A2A card' },
  { label: 'Conversations' },
] as const

const INSTANCE_COLUMNS = [
  { label: 'Instance' },
  { label: 'Agent' },
  { label: 'Client id' },
  { label: 'Principal' },
  { label: 'Node' },
  { label: 'Kind' },
  { label: 'Reached at' },
  { label: 'Status' },
  { label: 'In flight', numeric: true },
  { label: 'Last seen' },
  { label: 'Metadata' },
] as const

/** `12s ago`, with the exact UTC time in the title. */
function Age({ epochMs, asOf, testId }: { epochMs: number; asOf: number; testId: string }) {
  return (
    <td className="nowrap" title={new Date(epochMs).toISOString()} data-testid={testId}>
      {formatAge(secondsSince(epochMs, asOf))}
    </td>
  )
}

/** The capabilities of an agent, each with the title and description its instances gave. */
function Capabilities({ agent }: { agent: AgentSummary }) {
  const capabilities = describedCapabilities(agent)
  if (capabilities.length === 0) return <span className="muted">none</span>
  return (
    <ul className="plain-list">
      {capabilities.map((capability) => (
        <li key={capability.name} data-testid="agent-capability" data-capability={capability.name}>
          <span className="mono">{capability.name}</span>
          {capability.title === undefined ? null : <span> · {capability.title}</span>}
          {capability.description === undefined ? null : (
            <div className="muted small" data-testid="agent-capability-description">
              {capability.description}
            </div>
          )}
        </li>
      ))}
    </ul>
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
              <a href={agentHref(agent.agentId)} data-testid="agent-link">
                {agent.agentId}
              </a>
            </td>
            <td>
              <span className="tag" data-testid="agent-kind" data-kind={agentKindOf(agent)}>
                {AGENT_KIND_LABELS[agentKindOf(agent)]}
              </span>
            </td>
            <td data-testid="agent-capabilities">
              <Capabilities agent={agent} />
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
            <td className="mono small">
              {agent.cardUrl === undefined ? (
                <span className="muted">—</span>
              ) : (
                <a href={agent.cardUrl} target="_blank" rel="noreferrer" data-testid="agent-card-url">
                  {agent.cardUrl}
                </a>
              )}
            </td>
            <td>
              <ConversationLinks
                agentId={agent.agentId}
                others={everyAgent.map((other) => other.agentId).filter((other) => other !== agent.agentId)}
              />
            </td>
          </tr>
        ))}
      </LiveTable>
      <p className="muted small" data-testid="agents-count">
        {result?.ok === true
          ? `${filtering ? `${agents.length} of ${everyAgent.length}` : agents.length} agents on every node`
          : 'Agents unavailable'}{' '}
        · refreshes every 2 seconds
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
            <td>
              <IdCell id={instance.instanceId} />
            </td>
            <td className="mono">{instance.agentId}</td>
            <td>
              <IdCell id={instance.clientId} />
            </td>
            <td data-testid="instance-principal">
              <PrincipalName principal={instance.principal} />
            </td>
            <td>
              <IdCell id={instance.node} />
            </td>
            <td data-testid="instance-kind">{AGENT_KIND_LABELS[instance.kind ?? 'websocket']}</td>
            <td className="mono small" data-testid="instance-url">
              {instance.url ?? <span className="muted">—</span>}
            </td>
            <td>
              <Badge tone={agentStatusTone(instance.status)} testId="instance-status">
                {instance.status}
              </Badge>
            </td>
            <td className="num" data-testid="instance-in-flight">
              {formatCount(instance.inFlight)}
            </td>
            <Age epochMs={instance.lastSeen} asOf={asOf} testId="instance-last-seen" />
            <td>
              <InstanceMetadata metadata={instance.metadata} />
            </td>
          </tr>
        ))}
      </LiveTable>

      <A2aAgentsSection />

      <GrantsSection />
    </section>
  )
}
