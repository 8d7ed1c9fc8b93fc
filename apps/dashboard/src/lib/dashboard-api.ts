import {
  type A2aAgentInfo,
  type A2aAgentList,
  type A2aTaskInfo,
  ADMIN_ENDPOINTS,
  type AddA2aAgentRequest,
  type AddMcpServerRequest,
  type AdminEndpoint,
  type AdminEndpointName,
  type AdminEndpoints,
  type AdminPresenceList,
  type AgentKeyInfo,
  type AgentKeyList,
  type AgentList,
  type ApproveDeviceRequest,
  type AuditPage,
  type AuditVerification,
  type ChannelList,
  type ConnectionList,
  type ConversationPage,
  type CreateDashboardSessionRequest,
  type CreatedDashboardSession,
  type CreatedToken,
  type CreatePolicyRuleRequest,
  type CreateTokenRequest,
  type DashboardSessionList,
  type DeadLetter,
  type DeadLetterPage,
  type DeliveryStats,
  type DeviceRequestInfo,
  type DeviceRequestList,
  type EndpointBody,
  type EndpointParams,
  type EndpointResponse,
  fillPath,
  type GrantInfo,
  type GrantList,
  type Health,
  type McpServerInfo,
  type McpServerList,
  type McpToolList,
  type NodeList,
  type PairingDecision,
  type PairingOverview,
  type PolicyList,
  type PolicyRuleInfo,
  type PurgeResult,
  type RegisterAgentKeyRequest,
  type RequeueResult,
  type RevokedDashboardSessions,
  type Timeseries,
  type TokenInfo,
  type TokenList,
  type UpdatePolicyRuleRequest,
  type WhoAmI,
} from '@parley/protocol/admin'
import {
  type AgentListRequest,
  agentListSearchParams,
  type ConversationRequest,
  conversationSearchParams,
  type DeletedPolicyRule,
  type GrantListRequest,
  grantListSearchParams,
  type PolicyDefaultEffect,
} from './agent-requests'
import { type AuditRequest, auditSearchParams } from './audit-filters'
import {
  type DeadLetterFilters,
  type DeadLetterRequest,
  deadLetterSearchParams,
  purgeSearchParams,
} from './dlq-filters'
import type { GatewayResult } from './gateway-result'
import { withQuery } from './search-params'
import { type TimeseriesRequest, timeseriesSearchParams } from './timeseries'
import {
  type A2aTaskRequest,
  a2aTaskSearchParams,
  type McpToolsRequest,
  mcpToolsSearchParams,
  type RemovedUpstream,
} from './upstream-requests'

/**
 * The dashboard's calls to the gateway, built from the protocol's endpoint table: one typed `call(name, input)`
 * and, over it, the named calls pages use. The server client and the browser client share all of this and
 * differ only in how a request travels (straight to the gateway, or through the dashboard's `/api/gw` proxy).
 */

type ParamsInput<E extends AdminEndpoint> = keyof EndpointParams<E> extends never
  ? { params?: undefined }
  : { params: EndpointParams<E> }
type BodyInput<E extends AdminEndpoint> = E extends { body: unknown }
  ? { body: EndpointBody<E> }
  : { body?: undefined }

/** What a call of endpoint `N` takes: its path parameters, its body, and a query string built by the caller. */
export type AdminCallInput<N extends AdminEndpointName> = ParamsInput<AdminEndpoints[N]> &
  BodyInput<AdminEndpoints[N]> & { query?: URLSearchParams }

/** The data of a successful call of endpoint `N` (undefined for a 204). */
export type AdminCallData<N extends AdminEndpointName> = EndpointResponse<AdminEndpoints[N]>

export type CallAdmin = <N extends AdminEndpointName>(
  name: N,
  input: AdminCallInput<N>,
) => Promise<GatewayResult<AdminCallData<N>>>

/**
 * How a request travels: `path` is the gateway's (parameters filled in, query attached). The answer is parsed
 * with `endpoint.response`; a 204 succeeds with undefined.
 */
export type AdminSend = (
  endpoint: AdminEndpoint,
  path: string,
  body: unknown,
) => Promise<GatewayResult<unknown>>

/** The gateway path of a call: the table's pattern with the parameters filled in, and the query. */
export function adminRequestPath(
  endpoint: AdminEndpoint,
  input: { params?: object; query?: URLSearchParams },
): string {
  const query = input.query?.toString() ?? ''
  return `${fillPath(endpoint.path, (input.params ?? {}) as Record<string, string>)}${withQuery(query)}`
}

/** The typed `call` over a transport. */
export function callAdminOver(send: AdminSend): CallAdmin {
  return (name, input) => {
    const endpoint = ADMIN_ENDPOINTS[name]
    return send(endpoint, adminRequestPath(endpoint, input), input.body) as Promise<
      GatewayResult<AdminCallData<typeof name>>
    >
  }
}

function withData<T, U>(result: GatewayResult<T>, data: () => U): GatewayResult<U> {
  return result.ok ? { ok: true, data: data() } : result
}

/** Everything the dashboard reads from the gateway. The browser implements it too, via `/api/gw/*`. */
export interface DashboardApi {
  health(): Promise<GatewayResult<Health>>
  connections(): Promise<GatewayResult<ConnectionList>>
  channels(): Promise<GatewayResult<ChannelList>>
  audit(request: AuditRequest): Promise<GatewayResult<AuditPage>>
  deliveries(): Promise<GatewayResult<DeliveryStats>>
  deadLetters(request: DeadLetterRequest): Promise<GatewayResult<DeadLetterPage>>
  deadLetter(id: string): Promise<GatewayResult<DeadLetter>>
  /** Pending chat pairing requests (oldest first) and paired senders. */
  pairing(): Promise<GatewayResult<PairingOverview>>
  /** Pending device pairing requests. */
  devices(): Promise<GatewayResult<DeviceRequestList>>
  tokens(): Promise<GatewayResult<TokenList>>
  agentKeys(): Promise<GatewayResult<AgentKeyList>>
  /** Who is online on every node, and the per-principal aggregate. */
  presence(): Promise<GatewayResult<AdminPresenceList>>
  /** Every gateway node of the cluster (a single node lists itself). */
  nodes(): Promise<GatewayResult<NodeList>>
  /** Live dashboard sessions, newest first; the caller's is marked `current`. */
  sessions(): Promise<GatewayResult<DashboardSessionList>>
  /** Every registered agent on every node, inactive ones included. */
  agents(request: AgentListRequest): Promise<GatewayResult<AgentList>>
  /** The policy rules in evaluation order, the default effect and the version. */
  policies(): Promise<GatewayResult<PolicyList>>
  /** Live grants (accepted introductions), newest first; revoked ones too with `all`. */
  grants(request: GrantListRequest): Promise<GatewayResult<GrantList>>
  /** The audit rows between two agents (or clients, or principals), oldest first. */
  conversation(request: ConversationRequest): Promise<GatewayResult<ConversationPage>>
  /** External A2A agents with the health of each instance URL. */
  a2aAgents(): Promise<GatewayResult<A2aAgentList>>
  /** One durable A2A task (state, status message, artifacts), by its id and the agent serving it. */
  a2aTask(request: A2aTaskRequest): Promise<GatewayResult<A2aTaskInfo>>
  /** Upstream MCP servers with their health and tools. */
  mcpServers(): Promise<GatewayResult<McpServerList>>
  /** The tools `/mcp` lists (for one principal with `as`: "view as"), with call and error counts. */
  mcpTools(request: McpToolsRequest): Promise<GatewayResult<McpToolList>>
  /** The key figures over time, per node and in total: the gateway's, one agent's or one channel's. */
  timeseries(request: TimeseriesRequest): Promise<GatewayResult<Timeseries>>
  /** How far the audit chain verifies against the signed checkpoints. */
  auditVerification(): Promise<GatewayResult<AuditVerification>>
}

/**
 * What the operator can do about upstreams: external A2A agents and MCP servers. The browser implements it
 * too, via `/api/gw/{a2a,mcp}/*`.
 */
export interface UpstreamActions {
  /** The credentials go to the gateway once; no answer ever carries them again. */
  addA2aAgent(body: AddA2aAgentRequest): Promise<GatewayResult<A2aAgentInfo>>
  /** The gateway answers 204; the result names the removed agent. */
  removeA2aAgent(agentId: string): Promise<GatewayResult<RemovedUpstream>>
  /** Fetches its cards again now. */
  refreshA2aAgent(agentId: string): Promise<GatewayResult<A2aAgentInfo>>
  addMcpServer(body: AddMcpServerRequest): Promise<GatewayResult<McpServerInfo>>
  /** The gateway answers 204; the result names the removed server. */
  removeMcpServer(name: string): Promise<GatewayResult<RemovedUpstream>>
}

/** What the operator can do to the dead-letter queue. The browser implements it too, via `/api/gw/dlq/*`. */
export interface DeadLetterActions {
  requeueDeadLetter(id: string): Promise<GatewayResult<RequeueResult>>
  purgeDeadLetter(id: string): Promise<GatewayResult<PurgeResult>>
  /** Purges every dead letter matching the filters: all of them when no filter is set. */
  purgeDeadLetters(filters: DeadLetterFilters): Promise<GatewayResult<PurgeResult>>
}

/**
 * What the operator can do about who gets in: decide pairing requests, manage tokens and agent keys. The
 * browser implements it too, via `/api/gw/{pairing,devices,tokens,agent-keys}/*`.
 */
export interface AccessActions {
  approvePairing(requestId: string): Promise<GatewayResult<PairingDecision>>
  denyPairing(requestId: string): Promise<GatewayResult<PairingDecision>>
  revokePairedSender(channelType: string, senderId: string): Promise<GatewayResult<PairingDecision>>
  approveDevice(requestId: string, body: ApproveDeviceRequest): Promise<GatewayResult<DeviceRequestInfo>>
  denyDevice(requestId: string): Promise<GatewayResult<DeviceRequestInfo>>
  /** The answer holds the token's secret: the only time anyone sees it. */
  createToken(body: CreateTokenRequest): Promise<GatewayResult<CreatedToken>>
  revokeToken(id: string): Promise<GatewayResult<TokenInfo>>
  registerAgentKey(body: RegisterAgentKeyRequest): Promise<GatewayResult<AgentKeyInfo>>
  revokeAgentKey(id: string): Promise<GatewayResult<AgentKeyInfo>>
  /** Ends one dashboard session (another operator's browser, a forgotten laptop). */
  revokeSession(id: string): Promise<GatewayResult<RevokedDashboardSessions>>
  /** "Log out everywhere": ends every dashboard session, the caller's included. */
  revokeAllSessions(): Promise<GatewayResult<RevokedDashboardSessions>>
}

/**
 * What the operator can do about how agents reach each other: policy rules, the default effect, grants.
 * The browser implements it too, via `/api/gw/{policies,grants}/*`.
 */
export interface AgentActions {
  createPolicyRule(body: CreatePolicyRuleRequest): Promise<GatewayResult<PolicyRuleInfo>>
  updatePolicyRule(id: string, body: UpdatePolicyRuleRequest): Promise<GatewayResult<PolicyRuleInfo>>
  /** The gateway answers 204; the result names the deleted rule. */
  deletePolicyRule(id: string): Promise<GatewayResult<DeletedPolicyRule>>
  setPolicyDefault(effect: PolicyDefaultEffect): Promise<GatewayResult<PolicyList>>
  /** Both parties get `grant_revoked`; the answer carries `revokedAt`. */
  revokeGrant(id: string): Promise<GatewayResult<GrantInfo>>
}

export interface GatewayClient
  extends DashboardApi,
    DeadLetterActions,
    AccessActions,
    AgentActions,
    UpstreamActions {
  /** Any endpoint of the table, typed from it. */
  call: CallAdmin
  whoami(): Promise<GatewayResult<WhoAmI>>
  /** Login: opens a session with the admin token this client carries; the answer holds the session secret. */
  openSession(body: CreateDashboardSessionRequest): Promise<GatewayResult<CreatedDashboardSession>>
  /** Logout: ends the session this client carries. */
  endSession(): Promise<GatewayResult<RevokedDashboardSessions>>
}

/** The named calls over `call`: what pages and route handlers use. */
export function dashboardCallsOver(call: CallAdmin): GatewayClient {
  return {
    call,
    health: () => call('health', {}),
    whoami: () => call('whoami', {}),
    openSession: (body) => call('openSession', { body }),
    endSession: () => call('endSession', {}),
    sessions: () => call('sessions', {}),
    revokeSession: (id) => call('revokeSession', { params: { id } }),
    revokeAllSessions: () => call('revokeAllSessions', {}),
    connections: () => call('connections', {}),
    channels: () => call('channels', {}),
    audit: (request) => call('audit', { query: auditSearchParams(request) }),
    deliveries: () => call('deliveries', {}),
    deadLetters: (request) => call('deadLetters', { query: deadLetterSearchParams(request) }),
    deadLetter: (id) => call('deadLetter', { params: { id } }),
    requeueDeadLetter: (id) => call('requeueDeadLetter', { params: { id } }),
    purgeDeadLetter: (id) => call('purgeDeadLetter', { params: { id } }),
    purgeDeadLetters: (filters) => call('purgeDeadLetters', { query: purgeSearchParams(filters) }),
    pairing: () => call('pairing', {}),
    devices: () => call('devices', {}),
    tokens: () => call('tokens', {}),
    agentKeys: () => call('agentKeys', {}),
    presence: () => call('presence', {}),
    nodes: () => call('nodes', {}),
    approvePairing: (id) => call('approvePairing', { params: { id } }),
    denyPairing: (id) => call('denyPairing', { params: { id } }),
    revokePairedSender: (channelType, senderId) =>
      call('revokePairedSender', { params: { channelType, senderId } }),
    approveDevice: (id, body) => call('approveDevice', { params: { id }, body }),
    denyDevice: (id) => call('denyDevice', { params: { id } }),
    createToken: (body) => call('createToken', { body }),
    revokeToken: (id) => call('revokeToken', { params: { id } }),
    registerAgentKey: (body) => call('registerAgentKey', { body }),
    revokeAgentKey: (id) => call('revokeAgentKey', { params: { id } }),
    agents: (request) => call('agents', { query: agentListSearchParams(request) }),
    policies: () => call('policies', {}),
    grants: (request) => call('grants', { query: grantListSearchParams(request) }),
    conversation: (request) => call('conversation', { query: conversationSearchParams(request) }),
    createPolicyRule: (body) => call('createPolicyRule', { body }),
    updatePolicyRule: (id, body) => call('updatePolicyRule', { params: { id }, body }),
    // The gateway answers 204: the result names the deleted rule.
    deletePolicyRule: async (id) =>
      withData(await call('deletePolicyRule', { params: { id } }), () => ({ id, deleted: true as const })),
    setPolicyDefault: (effect) => call('setPolicyDefault', { body: { effect } }),
    revokeGrant: (id) => call('revokeGrant', { params: { id } }),
    a2aAgents: () => call('a2aAgents', {}),
    a2aTask: ({ taskId, agentId }) =>
      call('a2aTask', { params: { id: taskId }, query: a2aTaskSearchParams({ agentId }) }),
    mcpServers: () => call('mcpServers', {}),
    mcpTools: (request) => call('mcpTools', { query: mcpToolsSearchParams(request) }),
    timeseries: (request) => call('timeseries', { query: timeseriesSearchParams(request) }),
    auditVerification: () => call('auditVerification', {}),
    addA2aAgent: (body) => call('addA2aAgent', { body }),
    removeA2aAgent: async (agentId) =>
      withData(await call('removeA2aAgent', { params: { agentId } }), () => ({
        name: agentId,
        removed: true as const,
      })),
    refreshA2aAgent: (agentId) => call('refreshA2aAgent', { params: { agentId } }),
    addMcpServer: (body) => call('addMcpServer', { body }),
    removeMcpServer: async (name) =>
      withData(await call('removeMcpServer', { params: { name } }), () => ({ name, removed: true as const })),
  }
}
