// The directory's instance records and how they are listed, routed to and written to the bus group `agents`.
import type { AgentInstance, AgentKind, AgentSummary, CapabilityInfo, Role } from '@parley/protocol'
import type { AgentConnection, IntroductionMode } from './agent-directory-types.js'
import type { AgentRoute } from './types.js'

/** An instance registered on this node (its connection may be gone: then it is `inactive`). */
export interface LocalInstance {
  route: AgentRoute
  connection: AgentConnection | undefined
  metadata: Record<string, unknown>
  capabilityInfo: Record<string, CapabilityInfo>
  kind: AgentKind
  url: string | undefined
  introductions: IntroductionMode
  connectedAt: number
  lastSeen: number
  removal: NodeJS.Timeout | undefined
}

/** An instance of another node, as its `agents` entry (and `agent.gone` messages) describe it. */
export interface RemoteInstance extends AgentInstance {
  role: Role
  introductions?: IntroductionMode
}

/** The instances grouped by agent, sorted by agent id. */
export function summarize(instances: AgentInstance[]): AgentSummary[] {
  const byAgent = new Map<string, AgentInstance[]>()
  for (const instance of instances) {
    byAgent.set(instance.agentId, [...(byAgent.get(instance.agentId) ?? []), instance])
  }
  return [...byAgent.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([agentId, list]) => ({
      agentId,
      capabilities: [...new Set(list.flatMap((instance) => instance.capabilities))].sort(),
      status: list.some((instance) => instance.status === 'active') ? 'active' : 'inactive',
      ...(list[0]?.kind === undefined ? {} : { kind: list[0].kind }),
      connectedSince: Math.min(...list.map((instance) => instance.connectedAt)),
      instances: list.sort((a, b) => a.connectedAt - b.connectedAt),
    }))
}

/** How a local instance is listed; `inFlight` is its current count of requests and streams. */
export function localView(instance: LocalInstance, inFlight: number): AgentInstance {
  const { route } = instance
  return {
    instanceId: route.instanceId,
    agentId: route.agentId,
    clientId: route.clientId,
    principal: route.principal,
    capabilities: [...route.capabilities],
    ...(Object.keys(instance.capabilityInfo).length === 0 ? {} : { capabilityInfo: instance.capabilityInfo }),
    ...(instance.kind === 'websocket' ? {} : { kind: instance.kind }),
    ...(instance.url === undefined ? {} : { url: instance.url }),
    metadata: instance.metadata,
    status: instance.connection === undefined ? 'inactive' : 'active',
    connectedAt: instance.connectedAt,
    lastSeen: instance.connection?.lastSeenAt ?? instance.lastSeen,
    inFlight,
    node: route.node,
  }
}

/** The route to an instance of another node; `inFlight` as this node counts it. */
export function remoteRoute(instance: RemoteInstance, inFlight: number): AgentRoute {
  return {
    instanceId: instance.instanceId,
    agentId: instance.agentId,
    clientId: instance.clientId,
    principal: instance.principal,
    role: instance.role,
    capabilities: instance.capabilities,
    node: instance.node,
    inFlight,
    // Introductions read the mode off the route: the gateway answers `accept` / `reject` itself.
    introductions: instance.introductions ?? 'ask',
  }
}

/** A local instance's entry in the bus group `agents`, as the other nodes read it. */
export function entryOf(instance: LocalInstance, inFlight: number): string {
  const value: RemoteInstance = {
    ...localView(instance, inFlight),
    role: instance.route.role as Role,
    introductions: instance.introductions,
  }
  return JSON.stringify(value)
}
