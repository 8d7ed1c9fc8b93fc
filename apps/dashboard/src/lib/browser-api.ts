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
  type ConnectionList,
  ConnectionList as ConnectionListSchema,
  type ConversationPage,
  ConversationPage as ConversationPageSchema,
  type CreatedToken,
  CreatedToken as CreatedTokenSchema,
  type CreatePolicyRuleRequest,
  type CreateTokenRequest,
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
import type { z } from 'zod'
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
import type {
  AccessActions,
  AgentActions,
  DashboardApi,
  DeadLetterActions,
  HttpMethod,
  UpstreamActions,
} from './gateway-client'
import { failed, type GatewayResult, gatewayResultSchema } from './gateway-result'
import { dashboardQueries } from './queries'
import { withQuery } from './search-params'
import {
  type A2aTaskRequest,
  a2aTaskSearchParams,
  type McpToolsRequest,
  mcpToolsSearchParams,
  RemovedUpstream,
} from './upstream-requests'

/** Prefix of the dashboard's route handlers that call the gateway with the session's token. */
export const GATEWAY_ROUTES_PREFIX = '/api/gw'

async function getResult<T>(
  path: string,
  schema: z.ZodType<T>,
  method: HttpMethod = 'GET',
  body?: unknown,
): Promise<GatewayResult<T>> {
  let response: Response
  try {
    response = await fetch(`${GATEWAY_ROUTES_PREFIX}${path}`, {
      method,
      headers:
        body === undefined
          ? { accept: 'application/json' }
          : { accept: 'application/json', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: 'no-store',
      credentials: 'same-origin',
    })
  } catch (error) {
    return failed({
      kind: 'dashboard_unreachable',
      reason: error instanceof Error ? error.message : String(error),
    })
  }
  let answer: unknown
  try {
    answer = await response.json()
  } catch {
    answer = undefined
  }
  // Parsed again here with the protocol schemas: the route handler is ours, but the data is the gateway's.
  const parsed = gatewayResultSchema(schema).safeParse(answer)
  if (parsed.success) return parsed.data
  return failed({
    kind: 'dashboard_unreachable',
    reason: `unexpected answer from ${GATEWAY_ROUTES_PREFIX}${path} (HTTP ${response.status})`,
  })
}

/** Ids and names are one path segment each, whatever they contain. */
function segment(value: string): string {
  return encodeURIComponent(value)
}

function dlqPath(id: string): string {
  return `/dlq/${segment(id)}`
}

/** The `DashboardApi` of client components: the browser never holds the admin token. */
export const browserApi: DashboardApi & DeadLetterActions & AccessActions & AgentActions & UpstreamActions = {
  health: (): Promise<GatewayResult<Health>> => getResult('/health', HealthSchema),
  connections: (): Promise<GatewayResult<ConnectionList>> => getResult('/connections', ConnectionListSchema),
  channels: (): Promise<GatewayResult<ChannelList>> => getResult('/channels', ChannelListSchema),
  audit: (request: AuditRequest): Promise<GatewayResult<AuditPage>> => {
    const query = auditSearchParams(request).toString()
    return getResult(`/audit${withQuery(query)}`, AuditPageSchema)
  },
  deliveries: (): Promise<GatewayResult<DeliveryStats>> => getResult('/deliveries', DeliveryStatsSchema),
  deadLetters: (request: DeadLetterRequest): Promise<GatewayResult<DeadLetterPage>> => {
    const query = deadLetterSearchParams(request).toString()
    return getResult(`/dlq${withQuery(query)}`, DeadLetterPageSchema)
  },
  deadLetter: (id: string): Promise<GatewayResult<DeadLetter>> => getResult(dlqPath(id), DeadLetterSchema),
  requeueDeadLetter: (id: string): Promise<GatewayResult<RequeueResult>> =>
    getResult(`${dlqPath(id)}/requeue`, RequeueResultSchema, 'POST'),
  purgeDeadLetter: (id: string): Promise<GatewayResult<PurgeResult>> =>
    getResult(dlqPath(id), PurgeResultSchema, 'DELETE'),
  purgeDeadLetters: (filters: DeadLetterFilters): Promise<GatewayResult<PurgeResult>> => {
    const query = purgeSearchParams(filters).toString()
    return getResult(`/dlq${withQuery(query)}`, PurgeResultSchema, 'DELETE')
  },
  pairing: (): Promise<GatewayResult<PairingOverview>> => getResult('/pairing', PairingOverviewSchema),
  devices: (): Promise<GatewayResult<DeviceRequestList>> => getResult('/devices', DeviceRequestListSchema),
  tokens: (): Promise<GatewayResult<TokenList>> => getResult('/tokens', TokenListSchema),
  agentKeys: (): Promise<GatewayResult<AgentKeyList>> => getResult('/agent-keys', AgentKeyListSchema),
  presence: (): Promise<GatewayResult<AdminPresenceList>> => getResult('/presence', AdminPresenceListSchema),
  nodes: (): Promise<GatewayResult<NodeList>> => getResult('/nodes', NodeListSchema),
  sessions: (): Promise<GatewayResult<DashboardSessionList>> =>
    getResult('/sessions', DashboardSessionListSchema),
  revokeSession: (id: string): Promise<GatewayResult<RevokedDashboardSessions>> =>
    getResult(`/sessions/${segment(id)}`, RevokedDashboardSessionsSchema, 'DELETE'),
  revokeAllSessions: (): Promise<GatewayResult<RevokedDashboardSessions>> =>
    getResult('/sessions', RevokedDashboardSessionsSchema, 'DELETE'),
  approvePairing: (requestId: string): Promise<GatewayResult<PairingDecision>> =>
    getResult(`/pairing/requests/${segment(requestId)}/approve`, PairingDecisionSchema, 'POST'),
  denyPairing: (requestId: string): Promise<GatewayResult<PairingDecision>> =>
    getResult(`/pairing/requests/${segment(requestId)}/deny`, PairingDecisionSchema, 'POST'),
  revokePairedSender: (channelType: string, senderId: string): Promise<GatewayResult<PairingDecision>> =>
    getResult(
      `/pairing/paired/${segment(channelType)}/${segment(senderId)}`,
      PairingDecisionSchema,
      'DELETE',
    ),
  approveDevice: (requestId: string, body: ApproveDeviceRequest): Promise<GatewayResult<DeviceRequestInfo>> =>
    getResult(`/devices/${segment(requestId)}/approve`, DeviceRequestInfoSchema, 'POST', body),
  denyDevice: (requestId: string): Promise<GatewayResult<DeviceRequestInfo>> =>
    getResult(`/devices/${segment(requestId)}/deny`, DeviceRequestInfoSchema, 'POST'),
  createToken: (body: CreateTokenRequest): Promise<GatewayResult<CreatedToken>> =>
    getResult('/tokens', CreatedTokenSchema, 'POST', body),
  revokeToken: (id: string): Promise<GatewayResult<TokenInfo>> =>
    getResult(`/tokens/${segment(id)}`, TokenInfoSchema, 'DELETE'),
  registerAgentKey: (body: RegisterAgentKeyRequest): Promise<GatewayResult<AgentKeyInfo>> =>
    getResult('/agent-keys', AgentKeyInfoSchema, 'POST', body),
  revokeAgentKey: (id: string): Promise<GatewayResult<AgentKeyInfo>> =>
    getResult(`/agent-keys/${segment(id)}`, AgentKeyInfoSchema, 'DELETE'),
  agents: (request: AgentListRequest): Promise<GatewayResult<AgentList>> =>
    getResult(`/agents${withQuery(agentListSearchParams(request).toString())}`, AgentListSchema),
  policies: (): Promise<GatewayResult<PolicyList>> => getResult('/policies', PolicyListSchema),
  grants: (request: GrantListRequest): Promise<GatewayResult<GrantList>> =>
    getResult(`/grants${withQuery(grantListSearchParams(request).toString())}`, GrantListSchema),
  conversation: (request: ConversationRequest): Promise<GatewayResult<ConversationPage>> =>
    getResult(
      `/conversations${withQuery(conversationSearchParams(request).toString())}`,
      ConversationPageSchema,
    ),
  createPolicyRule: (body: CreatePolicyRuleRequest): Promise<GatewayResult<PolicyRuleInfo>> =>
    getResult('/policies', PolicyRuleInfoSchema, 'POST', body),
  updatePolicyRule: (id: string, body: UpdatePolicyRuleRequest): Promise<GatewayResult<PolicyRuleInfo>> =>
    getResult(`/policies/rules/${segment(id)}`, PolicyRuleInfoSchema, 'PATCH', body),
  deletePolicyRule: (id: string): Promise<GatewayResult<DeletedPolicyRule>> =>
    getResult(`/policies/rules/${segment(id)}`, DeletedPolicyRule, 'DELETE'),
  setPolicyDefault: (effect: PolicyDefaultEffect): Promise<GatewayResult<PolicyList>> =>
    getResult('/policies/default', PolicyListSchema, 'PUT', { effect }),
  revokeGrant: (id: string): Promise<GatewayResult<GrantInfo>> =>
    getResult(`/grants/${segment(id)}`, GrantInfoSchema, 'DELETE'),
  a2aAgents: (): Promise<GatewayResult<A2aAgentList>> => getResult('/a2a/agents', A2aAgentListSchema),
  a2aTask: ({ taskId, agentId }: A2aTaskRequest): Promise<GatewayResult<A2aTaskInfo>> =>
    getResult(`/a2a/tasks/${segment(taskId)}?${a2aTaskSearchParams({ agentId })}`, A2aTaskInfoSchema),
  mcpServers: (): Promise<GatewayResult<McpServerList>> => getResult('/mcp/servers', McpServerListSchema),
  mcpTools: (request: McpToolsRequest): Promise<GatewayResult<McpToolList>> =>
    getResult(`/mcp/tools${withQuery(mcpToolsSearchParams(request).toString())}`, McpToolListSchema),
  addA2aAgent: (body: AddA2aAgentRequest): Promise<GatewayResult<A2aAgentInfo>> =>
    getResult('/a2a/agents', A2aAgentInfoSchema, 'POST', body),
  removeA2aAgent: (agentId: string): Promise<GatewayResult<RemovedUpstream>> =>
    getResult(`/a2a/agents/${segment(agentId)}`, RemovedUpstream, 'DELETE'),
  refreshA2aAgent: (agentId: string): Promise<GatewayResult<A2aAgentInfo>> =>
    getResult(`/a2a/agents/${segment(agentId)}/refresh`, A2aAgentInfoSchema, 'POST'),
  addMcpServer: (body: AddMcpServerRequest): Promise<GatewayResult<McpServerInfo>> =>
    getResult('/mcp/servers', McpServerInfoSchema, 'POST', body),
  removeMcpServer: (name: string): Promise<GatewayResult<RemovedUpstream>> =>
    getResult(`/mcp/servers/${segment(name)}`, RemovedUpstream, 'DELETE'),
}

/** The query factories every client component uses. */
export const browserQueries = dashboardQueries(browserApi)
