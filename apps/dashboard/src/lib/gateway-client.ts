import {
  type A2aAgentInfo,
  A2aAgentInfo as A2aAgentInfoSchema,
  type A2aAgentList,
  A2aAgentList as A2aAgentListSchema,
  type A2aTaskInfo,
  A2aTaskInfo as A2aTaskInfoSchema,
  type AddA2aAgentRequest,
  type AddMcpServerRequest,
  type AdminPresenceList,
  AdminPresenceList as AdminPresenceListSchema,
  type AgentKeyInfo,
  AgentKeyInfo as AgentKeyInfoSchema,
  type AgentKeyList,
  AgentKeyList as AgentKeyListSchema,
  type AgentList,
  AgentList as AgentListSchema,
  type ApproveDeviceRequest,
  type AuditPage,
  AuditPage as AuditPageSchema,
  type ChannelList,
  ChannelList as ChannelListSchema,
  CLIENT_ADDRESS_HEADER,
  type ConnectionList,
  ConnectionList as ConnectionListSchema,
  type ConversationPage,
  ConversationPage as ConversationPageSchema,
  type CreateDashboardSessionRequest,
  type CreatedDashboardSession,
  CreatedDashboardSession as CreatedDashboardSessionSchema,
  type CreatedToken,
  CreatedToken as CreatedTokenSchema,
  type CreatePolicyRuleRequest,
  type CreateTokenRequest,
  DASHBOARD_SECRET_HEADER,
  type DashboardSessionList,
  DashboardSessionList as DashboardSessionListSchema,
  type DeadLetter,
  type DeadLetterPage,
  DeadLetterPage as DeadLetterPageSchema,
  DeadLetter as DeadLetterSchema,
  type DeliveryStats,
  DeliveryStats as DeliveryStatsSchema,
  type DeviceRequestInfo,
  DeviceRequestInfo as DeviceRequestInfoSchema,
  type DeviceRequestList,
  DeviceRequestList as DeviceRequestListSchema,
  type GrantInfo,
  GrantInfo as GrantInfoSchema,
  type GrantList,
  GrantList as GrantListSchema,
  type Health,
  Health as HealthSchema,
  HttpError,
  type McpServerInfo,
  McpServerInfo as McpServerInfoSchema,
  type McpServerList,
  McpServerList as McpServerListSchema,
  type McpToolList,
  McpToolList as McpToolListSchema,
  type NodeList,
  NodeList as NodeListSchema,
  type PairingDecision,
  PairingDecision as PairingDecisionSchema,
  type PairingOverview,
  PairingOverview as PairingOverviewSchema,
  type PolicyList,
  PolicyList as PolicyListSchema,
  type PolicyRuleInfo,
  PolicyRuleInfo as PolicyRuleInfoSchema,
  type PurgeResult,
  PurgeResult as PurgeResultSchema,
  type RegisterAgentKeyRequest,
  type RequeueResult,
  RequeueResult as RequeueResultSchema,
  type RevokedDashboardSessions,
  RevokedDashboardSessions as RevokedDashboardSessionsSchema,
  type TokenInfo,
  TokenInfo as TokenInfoSchema,
  type TokenList,
  TokenList as TokenListSchema,
  type UpdatePolicyRuleRequest,
} from '@parley/protocol/admin'
import { z } from 'zod'
import {
  type AgentListRequest,
  agentListSearchParams,
  type ConversationRequest,
  conversationSearchParams,
  DeletedPolicyRule,
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
import { failed, type GatewayFailure, type GatewayResult, succeeded } from './gateway-result'
import { withQuery } from './search-params'
import {
  type A2aTaskRequest,
  a2aTaskSearchParams,
  type McpToolsRequest,
  mcpToolsSearchParams,
  RemovedUpstream,
} from './upstream-requests'

/** `GET /api/admin/whoami`: which role the presented token has. */
export const WhoAmI = z.object({ role: z.string() })
export type WhoAmI = z.infer<typeof WhoAmI>

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
  whoami(): Promise<GatewayResult<WhoAmI>>
  /** Login: opens a session with the admin token this client carries; the answer holds the session secret. */
  openSession(body: CreateDashboardSessionRequest): Promise<GatewayResult<CreatedDashboardSession>>
  /** Logout: ends the session this client carries. */
  endSession(): Promise<GatewayResult<RevokedDashboardSessions>>
}

export interface GatewayClientOptions {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:8765`. */
  baseUrl: string
  /**
   * The credential sent as a Bearer token on `/api/admin/*`: the session secret of the operator's cookie (or
   * the admin token, at login only); without it those calls fail as unauthorized.
   */
  token?: string | undefined
  /** The dashboard secret shared with the gateway, sent with `clientAddress` so the gateway believes it. */
  dashboardSecret?: string | undefined
  /** The browser's address, for the gateway's failed-auth limit and session list. */
  clientAddress?: string | undefined
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch
  /** A gateway that accepts the connection but never answers must not hang a page render. */
  timeoutMs?: number
}

export const DEFAULT_GATEWAY_TIMEOUT_MS = 5_000

export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const fetchImpl = options.fetch ?? fetch
  const timeoutMs = options.timeoutMs ?? DEFAULT_GATEWAY_TIMEOUT_MS

  async function request<T>(
    path: string,
    schema: z.ZodType<T>,
    admin: boolean,
    method: HttpMethod = 'GET',
    body?: unknown,
    /**
     * The data of a call answered with 204 (a deletion): any 2xx then succeeds with it, whatever the body,
     * since only the status says the deletion happened. Without it a body-less answer is invalid.
     */
    noContent?: T,
  ): Promise<GatewayResult<T>> {
    const url = `${baseUrl}${path}`
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (admin) {
      if (options.token === undefined || options.token === '') {
        return failed({ kind: 'unauthorized', message: 'not logged in' })
      }
      headers.authorization = `Bearer ${options.token}`
      if (options.dashboardSecret !== undefined && options.clientAddress !== undefined) {
        headers[DASHBOARD_SECRET_HEADER] = options.dashboardSecret
        headers[CLIENT_ADDRESS_HEADER] = options.clientAddress
      }
    }

    let response: Response
    try {
      response = await fetchImpl(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        cache: 'no-store',
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (error) {
      return failed({ kind: 'unreachable', url: baseUrl, reason: describeFetchError(error, timeoutMs) })
    }

    let answer: unknown
    try {
      answer = await response.json()
    } catch {
      answer = undefined
    }

    if (!response.ok) return failed(httpFailure(response, answer))
    if (noContent !== undefined) return succeeded(noContent)
    if (answer === undefined) return failed({ kind: 'invalid_response', url, reason: 'the body is not JSON' })
    const parsed = schema.safeParse(answer)
    if (!parsed.success)
      return failed({ kind: 'invalid_response', url, reason: summariseIssues(parsed.error) })
    return succeeded(parsed.data)
  }

  return {
    health: () => request('/health', HealthSchema, false),
    whoami: () => request('/api/admin/whoami', WhoAmI, true),
    openSession: (body) => request('/api/admin/sessions', CreatedDashboardSessionSchema, true, 'POST', body),
    endSession: () => request('/api/admin/sessions/current', RevokedDashboardSessionsSchema, true, 'DELETE'),
    sessions: () => request('/api/admin/sessions', DashboardSessionListSchema, true),
    revokeSession: (id) =>
      request(`/api/admin/sessions/${segment(id)}`, RevokedDashboardSessionsSchema, true, 'DELETE'),
    revokeAllSessions: () => request('/api/admin/sessions', RevokedDashboardSessionsSchema, true, 'DELETE'),
    connections: () => request('/api/admin/connections', ConnectionListSchema, true),
    channels: () => request('/api/admin/channels', ChannelListSchema, true),
    audit: (auditRequest) => {
      const query = auditSearchParams(auditRequest).toString()
      return request(`/api/admin/audit${withQuery(query)}`, AuditPageSchema, true)
    },
    deliveries: () => request('/api/admin/deliveries', DeliveryStatsSchema, true),
    deadLetters: (dlqRequest) => {
      const query = deadLetterSearchParams(dlqRequest).toString()
      return request(`/api/admin/dlq${withQuery(query)}`, DeadLetterPageSchema, true)
    },
    deadLetter: (id) => request(dlqPath(id), DeadLetterSchema, true),
    requeueDeadLetter: (id) => request(`${dlqPath(id)}/requeue`, RequeueResultSchema, true, 'POST'),
    purgeDeadLetter: (id) => request(dlqPath(id), PurgeResultSchema, true, 'DELETE'),
    purgeDeadLetters: (filters) => {
      const query = purgeSearchParams(filters).toString()
      return request(`/api/admin/dlq${withQuery(query)}`, PurgeResultSchema, true, 'DELETE')
    },
    pairing: () => request('/api/admin/pairing', PairingOverviewSchema, true),
    devices: () => request('/api/admin/devices', DeviceRequestListSchema, true),
    tokens: () => request('/api/admin/tokens', TokenListSchema, true),
    agentKeys: () => request('/api/admin/agent-keys', AgentKeyListSchema, true),
    presence: () => request('/api/admin/presence', AdminPresenceListSchema, true),
    nodes: () => request('/api/admin/nodes', NodeListSchema, true),
    approvePairing: (requestId) =>
      request(
        `/api/admin/pairing/requests/${segment(requestId)}/approve`,
        PairingDecisionSchema,
        true,
        'POST',
      ),
    denyPairing: (requestId) =>
      request(`/api/admin/pairing/requests/${segment(requestId)}/deny`, PairingDecisionSchema, true, 'POST'),
    revokePairedSender: (channelType, senderId) =>
      request(
        `/api/admin/pairing/paired/${segment(channelType)}/${segment(senderId)}`,
        PairingDecisionSchema,
        true,
        'DELETE',
      ),
    approveDevice: (requestId, body) =>
      request(
        `/api/admin/devices/${segment(requestId)}/approve`,
        DeviceRequestInfoSchema,
        true,
        'POST',
        body,
      ),
    denyDevice: (requestId) =>
      request(`/api/admin/devices/${segment(requestId)}/deny`, DeviceRequestInfoSchema, true, 'POST'),
    createToken: (body) => request('/api/admin/tokens', CreatedTokenSchema, true, 'POST', body),
    revokeToken: (id) => request(`/api/admin/tokens/${segment(id)}`, TokenInfoSchema, true, 'DELETE'),
    registerAgentKey: (body) => request('/api/admin/agent-keys', AgentKeyInfoSchema, true, 'POST', body),
    revokeAgentKey: (id) =>
      request(`/api/admin/agent-keys/${segment(id)}`, AgentKeyInfoSchema, true, 'DELETE'),
    agents: (agentsRequest) => {
      const query = agentListSearchParams(agentsRequest).toString()
      return request(`/api/admin/agents${withQuery(query)}`, AgentListSchema, true)
    },
    policies: () => request('/api/admin/policies', PolicyListSchema, true),
    grants: (grantsRequest) => {
      const query = grantListSearchParams(grantsRequest).toString()
      return request(`/api/admin/grants${withQuery(query)}`, GrantListSchema, true)
    },
    conversation: (conversationRequest) => {
      const query = conversationSearchParams(conversationRequest).toString()
      return request(`/api/admin/conversations${withQuery(query)}`, ConversationPageSchema, true)
    },
    createPolicyRule: (body) => request('/api/admin/policies', PolicyRuleInfoSchema, true, 'POST', body),
    updatePolicyRule: (id, body) =>
      request(`/api/admin/policies/${segment(id)}`, PolicyRuleInfoSchema, true, 'PATCH', body),
    deletePolicyRule: (id) =>
      request(`/api/admin/policies/${segment(id)}`, DeletedPolicyRule, true, 'DELETE', undefined, {
        id,
        deleted: true,
      }),
    setPolicyDefault: (effect) =>
      request('/api/admin/policies/default', PolicyListSchema, true, 'PUT', { effect }),
    revokeGrant: (id) => request(`/api/admin/grants/${segment(id)}`, GrantInfoSchema, true, 'DELETE'),
    a2aAgents: () => request('/api/admin/a2a/agents', A2aAgentListSchema, true),
    a2aTask: ({ taskId, agentId }) =>
      request(
        `/api/admin/a2a/tasks/${segment(taskId)}?${a2aTaskSearchParams({ agentId })}`,
        A2aTaskInfoSchema,
        true,
      ),
    mcpServers: () => request('/api/admin/mcp/servers', McpServerListSchema, true),
    mcpTools: (toolsRequest) => {
      const query = mcpToolsSearchParams(toolsRequest).toString()
      return request(`/api/admin/mcp/tools${withQuery(query)}`, McpToolListSchema, true)
    },
    addA2aAgent: (body) => request('/api/admin/a2a/agents', A2aAgentInfoSchema, true, 'POST', body),
    removeA2aAgent: (agentId) =>
      request(`/api/admin/a2a/agents/${segment(agentId)}`, RemovedUpstream, true, 'DELETE', undefined, {
        name: agentId,
        removed: true,
      }),
    refreshA2aAgent: (agentId) =>
      request(`/api/admin/a2a/agents/${segment(agentId)}/refresh`, A2aAgentInfoSchema, true, 'POST'),
    addMcpServer: (body) => request('/api/admin/mcp/servers', McpServerInfoSchema, true, 'POST', body),
    removeMcpServer: (name) =>
      request(`/api/admin/mcp/servers/${segment(name)}`, RemovedUpstream, true, 'DELETE', undefined, {
        name,
        removed: true,
      }),
  }
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'

/** An id is one path segment, whatever it contains. */
function segment(value: string): string {
  return encodeURIComponent(value)
}

function dlqPath(id: string): string {
  return `/api/admin/dlq/${segment(id)}`
}

function httpFailure(response: Response, body: unknown): GatewayFailure {
  const envelope = HttpError.safeParse(body)
  const message = envelope.success ? envelope.data.error.message : response.statusText || 'no error message'
  if (response.status === 401) return { kind: 'unauthorized', message }
  const retryAfterMs = envelope.success ? envelope.data.error.retryAfterMs : undefined
  return {
    kind: 'http',
    status: response.status,
    code: envelope.success ? envelope.data.error.code : 'http_error',
    message,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  }
}

/** Node's fetch hides the useful part (`ECONNREFUSED 127.0.0.1:8765`) in `error.cause`. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  if (!(error instanceof Error)) return String(error)
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return `no answer within ${timeoutMs} ms`
  const cause: unknown = error.cause
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code
    if (code !== undefined && !cause.message.includes(code)) return `${code}: ${cause.message}`
    return cause.message
  }
  return error.message
}

function summariseIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)'
    return `${path}: ${issue.message}`
  })
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : ''
  return `${issues.join('; ')}${more}`
}
