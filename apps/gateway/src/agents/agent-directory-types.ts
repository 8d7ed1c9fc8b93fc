// The directory's contract (what the layer's parts use of it), apart from its implementation in
// `agent-directory.ts`, which re-exports these names.
import type {
  AgentInstance,
  AgentKind,
  AgentRegisterFrame,
  AgentSummary,
  DirectTarget,
  Role,
  ServerFrame,
} from '@parley/protocol'
import type { Logger } from 'pino'
import type { ClusterBus } from '../bus/types.js'
import type { AgentDirectory, AgentRoute } from './types.js'

/** What the directory needs of a connection (the hub's `Connection` fits). */
export interface AgentConnection {
  readonly id: string
  readonly clientId: string
  readonly principal: string
  readonly role: Role
  readonly lastSeenAt: number
  readonly isOpen: boolean
  sendFrame(frame: ServerFrame): boolean
}

export type IntroductionMode = NonNullable<AgentRegisterFrame['introductions']>

/** Frames an agent sends back to a caller on another node. */
export interface AgentAnswerFrame {
  type: string
  correlationId?: string
  streamId?: string
  [field: string]: unknown
}

/** How an instance that is not a client connection is reached (shown in listings). */
export interface AgentReach {
  kind: AgentKind
  /** The external agent's card URL (A2A) or server URL (MCP). */
  url?: string
}

export interface AgentDirectoryOptions {
  bus: ClusterBus
  logger: Logger
  /** Milliseconds an inactive instance stays listed (`agentTimeout`). */
  agentTimeoutMs: number
}

export interface RegisteredAgentDirectory extends AgentDirectory {
  /** False while this node cannot reach the other nodes (bus degraded): a target may be active there. */
  seesCluster(): boolean
  /**
   * Registers the connection as an instance. `reach` says how it is reached when it is not a client
   * connection (an in-process adapter for an external A2A agent or an MCP upstream).
   */
  register(connection: AgentConnection, frame: AgentRegisterFrame, reach?: AgentReach): AgentRoute
  unregister(connection: AgentConnection): AgentRoute | undefined
  /** The connection closed (or was reaped): its instance turns `inactive`. */
  connectionClosed(connection: AgentConnection): void
  /** The least in-flight active instance for the target (ties: least recently chosen), marked as chosen. */
  choose(target: DirectTarget, options?: { exclude?: ReadonlySet<string> }): AgentRoute | undefined
  /** Records that the instance was just chosen (it goes last among equally loaded ones). */
  markChosen(instanceId: string): void
  /** Counts a request or stream routed to the instance (until `release`). */
  acquire(instanceId: string): void
  release(instanceId: string): void
  /** The introductions mode of an instance (for introductions). */
  introductionsOf(instanceId: string): IntroductionMode | undefined
  /** Every instance, active or not, cluster-wide, grouped by agent. */
  summaries(capability?: string, include?: (instance: AgentInstance) => boolean): Promise<AgentSummary[]>
  /**
   * One agent's summary (active or inactive instances), from this node's view: the bus is re-read only when
   * the agent is missing from it, so a per-call check costs no directory read. Undefined when unknown.
   */
  known(agentId: string): Promise<AgentSummary | undefined>
  /** Active instances cluster-wide, as this node knows them. */
  activeCount(): number
  /**
   * A frame from a local agent about `key` (a correlation or stream id) that a caller on another node
   * opened: sent back to that node. False when no other node is waiting for it.
   */
  forwardAnswer(connection: AgentConnection, key: string, frame: AgentAnswerFrame): boolean
  /** The caller's node is done with `key` (a finished request or stream) on a remote instance. */
  forget(route: AgentRoute, key: string): void
  /** Answers from instances on other nodes, for the requests and streams this node holds. */
  onAnswer(listener: (instanceId: string, frame: AgentAnswerFrame) => void): () => void
  /** Whether other nodes may share the bus. */
  clustered(): boolean
  /** Re-reads the other nodes' instances now. */
  refresh(): Promise<void>
  start(): void
  stop(): Promise<void>
}
