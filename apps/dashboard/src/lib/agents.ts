import type { AgentStatus, AgentSummary, AuditEvent, GrantInfo } from '@parley/protocol/admin'
import type { StatusTone } from './presence'

/** Agents having a capability that contains `filter` (any case); an empty filter keeps them all. */
export function filterAgentsByCapability(agents: readonly AgentSummary[], filter: string): AgentSummary[] {
  const wanted = filter.trim().toLowerCase()
  if (wanted === '') return [...agents]
  return agents.filter((agent) =>
    agent.capabilities.some((capability) => capability.toLowerCase().includes(wanted)),
  )
}

/** Requests and streams an agent's instances are answering now. */
export function totalInFlight(agent: AgentSummary): number {
  return agent.instances.reduce((sum, instance) => sum + instance.inFlight, 0)
}

export function agentStatusTone(status: AgentStatus): StatusTone {
  return status === 'active' ? 'ok' : 'warn'
}

/** A grant's party as the operator knows it: its agent id, else its client id. */
export function grantPartyName(party: GrantInfo['from']): string {
  return party.agentId ?? party.clientId
}

export type Direction = 'a→b' | 'b→a' | 'unknown'

/**
 * Which way an audit row between `a` and `b` went. The row's target names the receiver; when it names
 * neither, the acting client or principal names the sender. A side may go by several names (an agent id and
 * the client ids of its instances, the conversation page's `parties`).
 */
export function directionOf(
  event: AuditEvent,
  a: string | readonly string[],
  b: string | readonly string[],
): Direction {
  const isA = (name: string | null | undefined) => name != null && namesOf(a).includes(name)
  const isB = (name: string | null | undefined) => name != null && namesOf(b).includes(name)
  if (isB(event.target) && !isA(event.target)) return 'a→b'
  if (isA(event.target) && !isB(event.target)) return 'b→a'
  const actors = [event.clientId, event.principal]
  if (actors.some(isA) && !actors.some(isB)) return 'a→b'
  if (actors.some(isB) && !actors.some(isA)) return 'b→a'
  return 'unknown'
}

function namesOf(side: string | readonly string[]): readonly string[] {
  return typeof side === 'string' ? [side] : side
}

/** `planner → billing`, the way a row between `a` and `b` went, or `—` when it cannot be told. */
export function describeDirection(direction: Direction, a: string, b: string): string {
  if (direction === 'a→b') return `${a} → ${b}`
  if (direction === 'b→a') return `${b} → ${a}`
  return '—'
}

/**
 * The group of each row: rows sharing a correlation id (a request and its reply, a stream and its end)
 * share a number, counted in order of first appearance; rows without one get none.
 */
export function correlationGroups(events: readonly AuditEvent[]): Map<string, number> {
  const groups = new Map<string, number>()
  for (const event of events) {
    const id = event.correlationId
    if (id !== null && id !== undefined && !groups.has(id)) groups.set(id, groups.size)
  }
  return groups
}

/** The dashboard path of the conversation between `a` and `b` (either may be empty: the form asks). */
export function conversationHref(a: string, b = ''): string {
  const params = new URLSearchParams()
  if (a !== '') params.set('a', a)
  if (b !== '') params.set('b', b)
  const query = params.toString()
  return query === '' ? '/agents/conversation' : `/agents/conversation?${query}`
}

/** Longest metadata value shown in a table cell; the whole value is in the cell's title. */
const METADATA_VALUE_LENGTH = 120

export interface MetadataEntry {
  key: string
  /** The value as text: a string as it is, anything else as JSON. */
  full: string
  /** `full` cut at `METADATA_VALUE_LENGTH` characters. */
  shown: string
}

/** An instance's metadata as text, sorted by key. */
export function metadataEntries(metadata: Record<string, unknown>): MetadataEntry[] {
  return Object.keys(metadata)
    .sort()
    .map((key) => {
      const value = metadata[key]
      const full = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
      const shown =
        full.length > METADATA_VALUE_LENGTH ? `${full.slice(0, METADATA_VALUE_LENGTH - 1)}…` : full
      return { key, full, shown }
    })
}

/** The page of one agent: its instances, metadata and figures over time. */
export function agentHref(agentId: string): string {
  return `/agents/agent?${new URLSearchParams({ id: agentId })}`
}

/** The page of one channel: its figures over time and recent publications. */
export function channelHref(name: string): string {
  return `/channels/channel?${new URLSearchParams({ name })}`
}
