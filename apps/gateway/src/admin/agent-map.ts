import type { AgentMap, AgentMapEdge, AgentMapNode, AgentMapWindow, AgentSummary } from '@parley/protocol'
import type { AuditEdgeCount } from '@parley/stores'

/** What the map knows of agents: their ids, which are active, and the client ids their instances used. */
export interface AgentIndex {
  /** Every agent id known (registered now, or in the audit's registration rows). */
  agentIds: ReadonlySet<string>
  active: ReadonlySet<string>
  /** Client id of an instance → its agent id. */
  agentOfClient: ReadonlyMap<string, string>
}

export function agentIndex(
  summaries: readonly AgentSummary[],
  registrations: readonly { clientId: string | null; target: string | null }[],
): AgentIndex {
  const agentIds = new Set<string>()
  const active = new Set<string>()
  const agentOfClient = new Map<string, string>()
  // Older registrations first, so the live directory (and newer rows) win for a reused client id.
  for (const row of [...registrations].reverse()) {
    if (row.clientId === null || row.target === null) continue
    agentIds.add(row.target)
    agentOfClient.set(row.clientId, row.target)
  }
  for (const summary of summaries) {
    agentIds.add(summary.agentId)
    if (summary.status === 'active') active.add(summary.agentId)
    for (const instance of summary.instances) agentOfClient.set(instance.clientId, summary.agentId)
  }
  return { agentIds, active, agentOfClient }
}

interface EdgeTotals {
  source: AgentMapNode
  target: AgentMapNode
  messages: number
  denied: number
  errors: number
  latencyMsSum: number
  latencyCount: number
}

/**
 * Folds the audit's grouped rows into the map. Nodes: each agent (all its instances: a client id an instance
 * registered with stands for its agent), each other caller, each channel. Edges: requests, streams, messages
 * and sends from source to target and publications to a channel count as messages, denied ones as denied, failed
 * ones as errors. A reply row runs from the agent back to its caller: it adds its latency, and its error when it
 * failed, to the edge of the request it answers.
 */
export function foldAgentMap(
  counts: readonly AuditEdgeCount[],
  index: AgentIndex,
  window: { window: AgentMapWindow; since: Date; until: Date },
): AgentMap {
  const nodes = new Map<string, AgentMapNode>()
  const edges = new Map<string, EdgeTotals>()

  const node = (kind: AgentMapNode['kind'], name: string): AgentMapNode => {
    const id = `${kind}:${name}`
    let found = nodes.get(id)
    if (found === undefined) {
      found = { id, kind, name, active: kind === 'agent' && index.active.has(name) }
      nodes.set(id, found)
    }
    return found
  }
  const party = (name: string): AgentMapNode => {
    if (index.agentIds.has(name)) return node('agent', name)
    const agentId = index.agentOfClient.get(name)
    return agentId === undefined ? node('caller', name) : node('agent', agentId)
  }
  const edge = (source: AgentMapNode, target: AgentMapNode): EdgeTotals => {
    const id = `${source.id}->${target.id}`
    let found = edges.get(id)
    if (found === undefined) {
      found = { source, target, messages: 0, denied: 0, errors: 0, latencyMsSum: 0, latencyCount: 0 }
      edges.set(id, found)
    }
    return found
  }

  const replies: AuditEdgeCount[] = []
  for (const count of counts) {
    if (count.kind === 'reply') {
      replies.push(count)
      continue
    }
    const source = party(count.source)
    const target =
      count.kind === 'publish'
        ? count.channel === null
          ? undefined
          : node('channel', count.channel)
        : count.target === null
          ? undefined
          : party(count.target)
    if (target === undefined) continue
    const totals = edge(source, target)
    totals.messages += count.count
    if (count.outcome === 'denied') totals.denied += count.count
    if (count.outcome === 'error') totals.errors += count.count
  }
  // After the requests, so a reply finds the edge of the request it answers.
  for (const reply of replies) {
    if (reply.target === null) continue
    const from = party(reply.source)
    const to = party(reply.target)
    const answered = edges.get(`${to.id}->${from.id}`)
    const totals = answered ?? edges.get(`${from.id}->${to.id}`) ?? edge(to, from)
    if (reply.outcome !== 'ok') totals.errors += reply.count
    totals.latencyMsSum += reply.latencyMsSum
    totals.latencyCount += reply.latencyCount
  }

  const mapEdges: AgentMapEdge[] = [...edges.entries()].map(([id, totals]) => {
    const failed = Math.min(totals.messages, totals.denied + totals.errors)
    return {
      id,
      source: totals.source.id,
      target: totals.target.id,
      messages: totals.messages,
      denied: totals.denied,
      errors: totals.errors,
      errorRate: totals.messages === 0 ? (totals.errors > 0 ? 1 : 0) : failed / totals.messages,
      avgLatencyMs:
        totals.latencyCount === 0 ? null : Math.round((totals.latencyMsSum / totals.latencyCount) * 10) / 10,
      conversation:
        totals.target.kind === 'channel' ? null : { a: totals.source.name, b: totals.target.name },
    }
  })
  return {
    window: window.window,
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)),
    edges: mapEdges.sort((a, b) => b.messages - a.messages || a.id.localeCompare(b.id)),
  }
}
