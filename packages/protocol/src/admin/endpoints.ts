import {
  AgentKeyInfo,
  AgentKeyList,
  ApproveCodeRequest,
  ApproveDeviceRequest,
  CreateDashboardSessionRequest,
  CreatedDashboardSession,
  CreatedToken,
  CreateTokenRequest,
  DashboardSessionList,
  DeviceRequestInfo,
  DeviceRequestList,
  PairingDecision,
  PairingOverview,
  RegisterAgentKeyRequest,
  RevokedDashboardSessions,
  TokenInfo,
  TokenList,
  WhoAmI,
} from '#admin/access'
import { AgentMap, AgentMapQuery, CapturedExchangePage, CapturedExchangeQuery } from '#admin/agent-map'
import {
  AgentList,
  AgentListQuery,
  CreatePolicyRuleRequest,
  GrantInfo,
  GrantList,
  GrantListQuery,
  PolicyList,
  PolicyRuleInfo,
  SetPolicyDefaultRequest,
  UpdatePolicyRuleRequest,
} from '#admin/agents'
import { AuditPage, AuditQuery, ConversationPage, ConversationQuery } from '#admin/audit'
import { AuditVerification } from '#admin/audit-verification'
import { AdminPresenceList, ChannelList, ConnectionList, NodeList } from '#admin/cluster'
import {
  DeadLetter,
  DeadLetterPage,
  DeadLetterQuery,
  DeliveryStats,
  PurgeResult,
  RequeueResult,
} from '#admin/deliveries'
import { adminEndpoint as endpoint, NoContent } from '#admin/endpoint-table'
import { Health } from '#admin/http'
import { Timeseries, TimeseriesQuery } from '#admin/timeseries'
import {
  A2aAgentInfo,
  A2aAgentList,
  A2aTaskInfo,
  A2aTaskList,
  A2aTaskListQuery,
  A2aTaskQuery,
  AddA2aAgentRequest,
  AddMcpServerRequest,
  McpServerInfo,
  McpServerList,
  McpToolList,
  McpToolQuery,
} from '#admin/upstreams'

/**
 * The gateway's admin API, one entry per endpoint: the gateway mounts its routes from this table, the
 * dashboard builds its server and browser calls and its proxy from it. Paths under `/api/admin` need an admin
 * credential; `/health` is public. Order matters where two paths overlap: the first entry wins
 * (`/sessions/current` before `/sessions/:id`, `/policies/default` before `/policies/:id`).
 *
 * A new endpoint is one entry here and one handler in the gateway's domain folder.
 */
export const ADMIN_ENDPOINTS = {
  health: endpoint({
    summary: 'Liveness and basic counters',
    method: 'GET',
    path: '/health',
    response: Health,
  }),
  whoami: endpoint({
    summary: 'The calling admin principal',
    method: 'GET',
    path: '/api/admin/whoami',
    response: WhoAmI,
  }),

  // Dashboard sessions.
  openSession: endpoint({
    summary: 'Open a dashboard session',
    method: 'POST',
    path: '/api/admin/sessions',
    body: CreateDashboardSessionRequest,
    bodyOptional: true,
    subject: 'session request',
    response: CreatedDashboardSession,
    status: 201,
  }),
  sessions: endpoint({
    summary: 'List dashboard sessions',
    method: 'GET',
    path: '/api/admin/sessions',
    response: DashboardSessionList,
  }),
  endSession: endpoint({
    summary: 'End the calling dashboard session',
    method: 'DELETE',
    path: '/api/admin/sessions/current',
    response: RevokedDashboardSessions,
  }),
  revokeSession: endpoint({
    summary: 'Revoke a dashboard session',
    method: 'DELETE',
    path: '/api/admin/sessions/:id',
    response: RevokedDashboardSessions,
  }),
  revokeAllSessions: endpoint({
    summary: 'Revoke every dashboard session',
    method: 'DELETE',
    path: '/api/admin/sessions',
    response: RevokedDashboardSessions,
  }),

  // The running cluster.
  connections: endpoint({
    summary: 'List open connections',
    method: 'GET',
    path: '/api/admin/connections',
    response: ConnectionList,
  }),
  channels: endpoint({
    summary: 'List channels',
    method: 'GET',
    path: '/api/admin/channels',
    response: ChannelList,
  }),
  nodes: endpoint({
    summary: 'List cluster nodes',
    method: 'GET',
    path: '/api/admin/nodes',
    response: NodeList,
  }),
  presence: endpoint({
    summary: 'List presence by channel',
    method: 'GET',
    path: '/api/admin/presence',
    response: AdminPresenceList,
  }),
  timeseries: endpoint({
    summary: 'Time series of the key figures, per node and in total',
    method: 'GET',
    path: '/api/admin/timeseries',
    query: TimeseriesQuery,
    subject: 'time series query',
    response: Timeseries,
  }),

  // Agents, policies, grants.
  agents: endpoint({
    summary: 'List every agent',
    method: 'GET',
    path: '/api/admin/agents',
    query: AgentListQuery,
    subject: 'agent query',
    response: AgentList,
  }),
  policies: endpoint({
    summary: 'List policy rules and the default',
    method: 'GET',
    path: '/api/admin/policies',
    response: PolicyList,
  }),
  setPolicyDefault: endpoint({
    summary: 'Set the default policy effect',
    method: 'PUT',
    path: '/api/admin/policies/default',
    body: SetPolicyDefaultRequest,
    subject: 'policy default',
    response: PolicyList,
  }),
  createPolicyRule: endpoint({
    summary: 'Create a policy rule',
    method: 'POST',
    path: '/api/admin/policies',
    body: CreatePolicyRuleRequest,
    subject: 'policy rule',
    response: PolicyRuleInfo,
    status: 201,
  }),
  updatePolicyRule: endpoint({
    summary: 'Update a policy rule',
    method: 'PATCH',
    path: '/api/admin/policies/:id',
    body: UpdatePolicyRuleRequest,
    subject: 'policy rule update',
    response: PolicyRuleInfo,
  }),
  deletePolicyRule: endpoint({
    summary: 'Delete a policy rule',
    method: 'DELETE',
    path: '/api/admin/policies/:id',
    response: NoContent,
    status: 204,
  }),
  grants: endpoint({
    summary: 'List grants',
    method: 'GET',
    path: '/api/admin/grants',
    query: GrantListQuery,
    subject: 'grants query',
    response: GrantList,
  }),
  revokeGrant: endpoint({
    summary: 'Revoke a grant',
    method: 'DELETE',
    path: '/api/admin/grants/:id',
    response: GrantInfo,
  }),

  // External A2A agents and their tasks.
  a2aAgents: endpoint({
    summary: 'List external A2A agents',
    method: 'GET',
    path: '/api/admin/a2a/agents',
    response: A2aAgentList,
  }),
  addA2aAgent: endpoint({
    summary: 'Register an external A2A agent',
    method: 'POST',
    path: '/api/admin/a2a/agents',
    body: AddA2aAgentRequest,
    subject: 'external A2A agent',
    response: A2aAgentInfo,
    status: 201,
  }),
  removeA2aAgent: endpoint({
    summary: 'Remove an external A2A agent',
    method: 'DELETE',
    path: '/api/admin/a2a/agents/:agentId',
    response: NoContent,
    status: 204,
  }),
  refreshA2aAgent: endpoint({
    summary: "Refetch an external A2A agent's card",
    method: 'POST',
    path: '/api/admin/a2a/agents/:agentId/refresh',
    response: A2aAgentInfo,
  }),
  a2aTask: endpoint({
    summary: 'Read an A2A task',
    method: 'GET',
    path: '/api/admin/a2a/tasks/:id',
    query: A2aTaskQuery,
    subject: 'A2A task query',
    response: A2aTaskInfo,
  }),
  a2aTasks: endpoint({
    summary: 'List A2A tasks',
    method: 'GET',
    path: '/api/admin/a2a/tasks',
    query: A2aTaskListQuery,
    subject: 'A2A task list query',
    response: A2aTaskList,
  }),

  // Upstream MCP servers and the tools `/mcp` lists.
  mcpServers: endpoint({
    summary: 'List upstream MCP servers',
    method: 'GET',
    path: '/api/admin/mcp/servers',
    response: McpServerList,
  }),
  addMcpServer: endpoint({
    summary: 'Register an upstream MCP server',
    method: 'POST',
    path: '/api/admin/mcp/servers',
    body: AddMcpServerRequest,
    subject: 'MCP server',
    response: McpServerInfo,
    status: 201,
  }),
  removeMcpServer: endpoint({
    summary: 'Remove an upstream MCP server',
    method: 'DELETE',
    path: '/api/admin/mcp/servers/:name',
    response: NoContent,
    status: 204,
  }),
  mcpTools: endpoint({
    summary: 'List the tools /mcp offers, optionally as seen by a principal',
    method: 'GET',
    path: '/api/admin/mcp/tools',
    query: McpToolQuery,
    subject: 'MCP tools query',
    response: McpToolList,
  }),

  // Audit and conversations.
  audit: endpoint({
    summary: 'Search the audit log',
    method: 'GET',
    path: '/api/admin/audit',
    query: AuditQuery,
    subject: 'audit query',
    response: AuditPage,
  }),
  auditVerification: endpoint({
    summary: 'How far the audit chain is verified',
    method: 'GET',
    path: '/api/admin/audit/verification',
    response: AuditVerification,
  }),
  conversation: endpoint({
    summary: 'Read the conversation between two parties',
    method: 'GET',
    path: '/api/admin/conversations',
    query: ConversationQuery,
    subject: 'conversation query',
    response: ConversationPage,
  }),
  conversationExchanges: endpoint({
    summary: 'Captured exchanges between two parties (conversation replay)',
    method: 'GET',
    path: '/api/admin/conversations/exchanges',
    query: CapturedExchangeQuery,
    subject: 'exchange query',
    response: CapturedExchangePage,
  }),
  agentMap: endpoint({
    summary: 'Who talked to whom in a window',
    method: 'GET',
    path: '/api/admin/agent-map',
    query: AgentMapQuery,
    subject: 'map query',
    response: AgentMap,
  }),

  // Deliveries and the dead-letter queue.
  deliveries: endpoint({
    summary: 'Delivery statistics',
    method: 'GET',
    path: '/api/admin/deliveries',
    response: DeliveryStats,
  }),
  deadLetters: endpoint({
    summary: 'List dead letters',
    method: 'GET',
    path: '/api/admin/dlq',
    query: DeadLetterQuery,
    subject: 'dead-letter query',
    response: DeadLetterPage,
  }),
  deadLetter: endpoint({
    summary: 'Read a dead letter',
    method: 'GET',
    path: '/api/admin/dlq/:id',
    response: DeadLetter,
  }),
  requeueDeadLetter: endpoint({
    summary: 'Requeue a dead letter',
    method: 'POST',
    path: '/api/admin/dlq/:id/requeue',
    response: RequeueResult,
  }),
  purgeDeadLetter: endpoint({
    summary: 'Purge a dead letter',
    method: 'DELETE',
    path: '/api/admin/dlq/:id',
    response: PurgeResult,
  }),
  /** Purges by filter (`cursor` and `limit` are ignored); every dead letter without one. */
  purgeDeadLetters: endpoint({
    summary: 'Purge dead letters by filter',
    method: 'DELETE',
    path: '/api/admin/dlq',
    query: DeadLetterQuery,
    subject: 'dead-letter query',
    response: PurgeResult,
  }),

  // API tokens.
  tokens: endpoint({
    summary: 'List API tokens',
    method: 'GET',
    path: '/api/admin/tokens',
    response: TokenList,
  }),
  createToken: endpoint({
    summary: 'Create an API token',
    method: 'POST',
    path: '/api/admin/tokens',
    body: CreateTokenRequest,
    subject: 'token request',
    response: CreatedToken,
    status: 201,
  }),
  revokeToken: endpoint({
    summary: 'Revoke an API token',
    method: 'DELETE',
    path: '/api/admin/tokens/:id',
    response: TokenInfo,
  }),

  // Chat pairing and device pairing.
  pairing: endpoint({
    summary: 'Pending and paired chat senders',
    method: 'GET',
    path: '/api/admin/pairing',
    response: PairingOverview,
  }),
  approvePairing: endpoint({
    summary: 'Approve a pending chat pairing request',
    method: 'POST',
    path: '/api/admin/pairing/requests/:id/approve',
    response: PairingDecision,
  }),
  denyPairing: endpoint({
    summary: 'Deny a pending chat pairing request',
    method: 'POST',
    path: '/api/admin/pairing/requests/:id/deny',
    response: PairingDecision,
  }),
  approvePairingCode: endpoint({
    summary: 'Approve a chat pairing by its code',
    method: 'POST',
    path: '/api/admin/pairing/approve',
    body: ApproveCodeRequest,
    subject: 'approval',
    response: PairingDecision,
  }),
  revokePairedSender: endpoint({
    summary: 'Unpair a chat sender',
    method: 'DELETE',
    path: '/api/admin/pairing/paired/:channelType/:senderId',
    response: PairingDecision,
  }),
  devices: endpoint({
    summary: 'List device pairing requests',
    method: 'GET',
    path: '/api/admin/devices',
    response: DeviceRequestList,
  }),
  approveDevice: endpoint({
    summary: 'Approve a device pairing request',
    method: 'POST',
    path: '/api/admin/devices/:id/approve',
    body: ApproveDeviceRequest,
    bodyOptional: true,
    subject: 'device approval',
    response: DeviceRequestInfo,
  }),
  denyDevice: endpoint({
    summary: 'Deny a device pairing request',
    method: 'POST',
    path: '/api/admin/devices/:id/deny',
    response: DeviceRequestInfo,
  }),

  // Agent keys (Ed25519 identities).
  agentKeys: endpoint({
    summary: 'List agent keys',
    method: 'GET',
    path: '/api/admin/agent-keys',
    response: AgentKeyList,
  }),
  registerAgentKey: endpoint({
    summary: 'Register an agent key (Ed25519)',
    method: 'POST',
    path: '/api/admin/agent-keys',
    body: RegisterAgentKeyRequest,
    subject: 'agent key',
    response: AgentKeyInfo,
    status: 201,
  }),
  revokeAgentKey: endpoint({
    summary: 'Revoke an agent key',
    method: 'DELETE',
    path: '/api/admin/agent-keys/:id',
    response: AgentKeyInfo,
  }),
} as const

export type AdminEndpoints = typeof ADMIN_ENDPOINTS
export type AdminEndpointName = keyof AdminEndpoints
