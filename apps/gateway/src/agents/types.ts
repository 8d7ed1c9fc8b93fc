import type { Caller, DirectTarget, GrantInfo, PolicyEffect, ServerFrame } from '@parley/protocol'

/**
 * Contracts between the parts of the agent layer: the directory (who is registered where, least in-flight
 * routing), access (policies and grants) and the frame handlers built on them (requests, streams, sends,
 * introductions, signaling, shared state). Each part is built against these, so it can be tested with a
 * plain object standing in for the others.
 */

/** Policy actions (`packages/stores` PolicyAction); `message` also covers signals and introductions. */
export type AccessAction = 'message' | 'request' | 'stream' | 'subscribe' | 'publish'

/** One side of an interaction, as the gateway verified it. */
export interface AccessParty {
  principal: string
  role?: string
  clientId?: string
  agentId?: string
  capabilities?: readonly string[]
}

export interface AccessRequest {
  action: AccessAction
  caller: AccessParty
  /** The agent or client acted on (its capabilities: those it holds, or the one routed to), or a channel. */
  target: AccessParty | { channel: string }
}

export type AccessDecision =
  | { allowed: true; effect: PolicyEffect | 'default'; rule?: string; grantId?: string }
  | {
      allowed: false
      code: 'policy_denied' | 'introduction_required'
      /** The rule that decided; undefined when the default effect denied. */
      rule?: string
      message: string
    }

/**
 * Policies and grants as this node sees them now. `check` is synchronous: it reads the node's cached policy
 * snapshot and grant set, which are refreshed when any node changes them (bus) and on an interval (backstop).
 * The caller audits a denial (outcome `denied`, detail naming the rule).
 */
export interface AgentAccess {
  check(request: AccessRequest): AccessDecision
}

/** The key a grant links: the agent id of a registered agent, else the client id. */
export type GrantKey = string

export interface GrantParty {
  principal: string
  clientId: string
  agentId?: string
}

/** Accepted introductions (grants), kept in the store; live ones cached on every node. */
export interface AgentGrants {
  /** Records an accepted introduction; every node learns it before the promise resolves on this node. */
  create(from: GrantParty, to: GrantParty, reason: string | undefined): Promise<GrantInfo>
  /** The live grant linking the two keys (either direction), from the cache. */
  between(a: GrantKey, b: GrantKey): GrantInfo | undefined
  /** Called on every node when a grant is revoked (operator or API), to tell both parties `grant_revoked`. */
  onRevoked(listener: (grant: GrantInfo) => void): () => void
}

/** A registered agent instance this node can route to (local or on another node). */
export interface AgentRoute {
  instanceId: string
  agentId: string
  clientId: string
  principal: string
  role: string
  capabilities: readonly string[]
  /** The node its connection is on. */
  node: string
  /** Requests and streams it is answering now (as last known for remote instances). */
  inFlight: number
  /** How `introduce` is answered for it: ask the agent (default), or the gateway accepts / rejects. */
  introductions?: 'ask' | 'accept' | 'reject'
}

/** Who is registered where. Routing picks the least in-flight active instance. */
export interface AgentDirectory {
  /** Active instances matching the target, least in-flight first. */
  resolve(target: DirectTarget, options?: { exclude?: ReadonlySet<string> }): AgentRoute[]
  /** Every active instance of any agent (broadcasts), or of those holding `capability`. */
  all(capability?: string): AgentRoute[]
  /** The registered instance on this connection, if it registered. */
  byConnection(connectionId: string): AgentRoute | undefined
  /** Hands a frame to the instance's connection, on this node or through the bus; false when it is gone. */
  deliver(instanceId: string, frame: ServerFrame): boolean
  /** Called when an instance disconnects or unregisters (on this node, or learnt from the bus). */
  onGone(listener: (route: AgentRoute) => void): () => void
}

/** The `Caller` sent to agents, from the connection that acted. */
export type { Caller }
