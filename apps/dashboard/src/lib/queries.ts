import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query'
import type { AgentListRequest } from './agent-requests'
import { type AuditFilters, normaliseFilters } from './audit-filters'
import { type DeadLetterFilters, normaliseDeadLetterFilters } from './dlq-filters'
import type { DashboardApi } from './gateway-client'
import type { TimeseriesRequest } from './timeseries'
import type { McpToolsRequest } from './upstream-requests'

/** The overview and lists refresh this often while the page is visible. */
export const LIVE_REFRESH_MS = 2_000
export const RECENT_AUDIT_LIMIT = 20
export const AUDIT_PAGE_SIZE = 50
export const DEAD_LETTER_PAGE_SIZE = 50

/** Prefix of every dead-letter query key: a requeue or purge invalidates them all. */
export const DEAD_LETTERS_KEY = ['gateway', 'dlq'] as const
export const DELIVERY_STATS_KEY = ['gateway', 'deliveries'] as const
export const PAIRING_KEY = ['gateway', 'pairing'] as const
export const DEVICES_KEY = ['gateway', 'devices'] as const
export const TOKENS_KEY = ['gateway', 'tokens'] as const
export const AGENT_KEYS_KEY = ['gateway', 'agent-keys'] as const
export const SESSIONS_KEY = ['gateway', 'sessions'] as const
export const PRESENCE_KEY = ['gateway', 'presence'] as const
export const NODES_KEY = ['gateway', 'nodes'] as const
export const AGENTS_KEY = ['gateway', 'agents'] as const
export const POLICIES_KEY = ['gateway', 'policies'] as const
export const GRANTS_KEY = ['gateway', 'grants'] as const
export const CONVERSATIONS_KEY = ['gateway', 'conversations'] as const
export const CONVERSATION_PAGE_SIZE = 100
export const A2A_AGENTS_KEY = ['gateway', 'a2a-agents'] as const
export const A2A_TASKS_KEY = ['gateway', 'a2a-tasks'] as const
export const MCP_SERVERS_KEY = ['gateway', 'mcp-servers'] as const
export const MCP_TOOLS_KEY = ['gateway', 'mcp-tools'] as const
export const TIMESERIES_KEY = ['gateway', 'timeseries'] as const
export const AUDIT_VERIFICATION_KEY = ['gateway', 'audit', 'verification'] as const

/**
 * The one definition of every query the dashboard runs: key, fetcher and refresh policy. Server components
 * build it over the gateway client (direct calls with the session's token) to prefetch; client components
 * build it over the browser API (the dashboard's `/api/gw/*` routes). Same keys, so the server's data
 * hydrates straight into the client's cache.
 */
export function dashboardQueries(api: DashboardApi) {
  return {
    health: () =>
      queryOptions({
        queryKey: ['gateway', 'health'],
        queryFn: () => api.health(),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    connections: () =>
      queryOptions({
        queryKey: ['gateway', 'connections'],
        queryFn: () => api.connections(),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    channels: () =>
      queryOptions({
        queryKey: ['gateway', 'channels'],
        queryFn: () => api.channels(),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    recentAudit: () =>
      queryOptions({
        queryKey: ['gateway', 'audit', 'recent'],
        queryFn: () => api.audit({ limit: RECENT_AUDIT_LIMIT }),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    auditTrail: (filters: AuditFilters) => {
      const normalised = normaliseFilters(filters)
      return infiniteQueryOptions({
        queryKey: ['gateway', 'audit', 'trail', normalised],
        queryFn: ({ pageParam }) =>
          api.audit({
            ...normalised,
            limit: AUDIT_PAGE_SIZE,
            ...(pageParam === null ? {} : { cursor: pageParam }),
          }),
        initialPageParam: null as string | null,
        // A failed page ends pagination; the banner says why and the next refresh retries.
        getNextPageParam: (lastPage) => (lastPage.ok ? lastPage.data.nextCursor : null),
        // Audit rows are written in batches by the gateway: keep polling so fresh rows show up.
        refetchInterval: LIVE_REFRESH_MS,
      })
    },
    deliveryStats: () =>
      queryOptions({
        queryKey: DELIVERY_STATS_KEY,
        queryFn: () => api.deliveries(),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    deadLetters: (filters: DeadLetterFilters) => {
      const normalised = normaliseDeadLetterFilters(filters)
      return infiniteQueryOptions({
        queryKey: [...DEAD_LETTERS_KEY, 'list', normalised],
        queryFn: ({ pageParam }) =>
          api.deadLetters({
            ...normalised,
            limit: DEAD_LETTER_PAGE_SIZE,
            ...(pageParam === null ? {} : { cursor: pageParam }),
          }),
        initialPageParam: null as string | null,
        // A failed page ends pagination; the banner says why and the next refresh retries.
        getNextPageParam: (lastPage) => (lastPage.ok ? lastPage.data.nextCursor : null),
        refetchInterval: LIVE_REFRESH_MS,
      })
    },
    /** One dead letter with its data, fetched when the operator inspects it. Not polled: it only leaves. */
    deadLetter: (id: string) =>
      queryOptions({
        queryKey: [...DEAD_LETTERS_KEY, 'one', id],
        queryFn: () => api.deadLetter(id),
      }),
    /** Pending chat pairing requests (with their wrong-code count) and paired senders, live. */
    pairing: () =>
      queryOptions({ queryKey: PAIRING_KEY, queryFn: () => api.pairing(), refetchInterval: LIVE_REFRESH_MS }),
    /** Devices waiting for a decision: a waiting device gives up after 5 minutes, so this is live too. */
    devices: () =>
      queryOptions({ queryKey: DEVICES_KEY, queryFn: () => api.devices(), refetchInterval: LIVE_REFRESH_MS }),
    /** Tokens refresh too: `lastUsedAt` moves, and another operator (or the CLI) may revoke one. */
    tokens: () =>
      queryOptions({ queryKey: TOKENS_KEY, queryFn: () => api.tokens(), refetchInterval: LIVE_REFRESH_MS }),
    /** Dashboard logins: another operator may log in or out, so it is live. */
    sessions: () =>
      queryOptions({
        queryKey: SESSIONS_KEY,
        queryFn: () => api.sessions(),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    agentKeys: () =>
      queryOptions({
        queryKey: AGENT_KEYS_KEY,
        queryFn: () => api.agentKeys(),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    /** Who is online, cluster-wide: statuses change and clients come and go, so it is live. */
    presence: () =>
      queryOptions({
        queryKey: PRESENCE_KEY,
        queryFn: () => api.presence(),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    /** The gateway nodes with their heartbeats and bus state, live. */
    nodes: () =>
      queryOptions({ queryKey: NODES_KEY, queryFn: () => api.nodes(), refetchInterval: LIVE_REFRESH_MS }),
    /** Registered agents and their instances on every node: in-flight counts and statuses move, so live. */
    agents: (request: AgentListRequest = {}) => {
      const capability = request.capability?.trim() ?? ''
      return queryOptions({
        queryKey: [...AGENTS_KEY, capability],
        queryFn: () => api.agents(capability === '' ? {} : { capability }),
        refetchInterval: LIVE_REFRESH_MS,
      })
    },
    /** Policy rules change on any node (or the CLI): live, so the version shown is the current one. */
    policies: () =>
      queryOptions({
        queryKey: POLICIES_KEY,
        queryFn: () => api.policies(),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    /** Grants appear whenever two agents are introduced: live. */
    grants: (all = false) =>
      queryOptions({
        queryKey: [...GRANTS_KEY, all ? 'all' : 'live'],
        queryFn: () => api.grants(all ? { all: true } : {}),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    /** The rows between `a` and `b`, newest first, paged back to older ones; polled so new rows show up. */
    conversation: (a: string, b: string) =>
      infiniteQueryOptions({
        queryKey: [...CONVERSATIONS_KEY, a, b],
        queryFn: ({ pageParam }) =>
          api.conversation({
            a,
            b,
            order: 'newest',
            limit: CONVERSATION_PAGE_SIZE,
            ...(pageParam === null ? {} : { cursor: pageParam }),
          }),
        initialPageParam: null as string | null,
        // A failed page ends pagination; the banner says why and the next refresh retries.
        getNextPageParam: (lastPage) => (lastPage.ok ? lastPage.data.nextCursor : null),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    /** External A2A agents: card fetches and failures happen on the gateway's schedule, so live. */
    a2aAgents: () =>
      queryOptions({
        queryKey: A2A_AGENTS_KEY,
        queryFn: () => api.a2aAgents(),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    /** One A2A task: its state and artifacts move while it runs, so live. */
    a2aTask: (taskId: string, agentId: string) =>
      queryOptions({
        queryKey: [...A2A_TASKS_KEY, agentId, taskId],
        queryFn: () => api.a2aTask({ taskId, agentId }),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    /** Upstream MCP servers with their health and tools, live. */
    mcpServers: () =>
      queryOptions({
        queryKey: MCP_SERVERS_KEY,
        queryFn: () => api.mcpServers(),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    /** The tools `/mcp` lists, for everyone or as one principal; call counts move, so live. */
    mcpTools: (request: McpToolsRequest = {}) => {
      const as = request.as?.trim() ?? ''
      const normalised: McpToolsRequest =
        as === '' ? {} : request.role === undefined ? { as } : { as, role: request.role }
      return queryOptions({
        queryKey: [...MCP_TOOLS_KEY, normalised.as ?? '', normalised.role ?? ''],
        queryFn: () => api.mcpTools(normalised),
        refetchInterval: LIVE_REFRESH_MS,
      })
    },
    /** The charts' figures: sampled every second by the gateway, so refreshed like the rest. */
    timeseries: (request: TimeseriesRequest = {}) => {
      const normalised: TimeseriesRequest = {
        range: request.range ?? '15m',
        ...(request.agent === undefined ? {} : { agent: request.agent }),
        ...(request.channel === undefined ? {} : { channel: request.channel }),
      }
      return queryOptions({
        queryKey: [...TIMESERIES_KEY, normalised.range, normalised.agent ?? '', normalised.channel ?? ''],
        queryFn: () => api.timeseries(normalised),
        refetchInterval: LIVE_REFRESH_MS,
      })
    },
    /** The newest publications on one channel (their audit rows: who, when, how big; never the payload). */
    channelMessages: (channel: string) =>
      queryOptions({
        queryKey: ['gateway', 'audit', 'channel', channel],
        queryFn: () => api.audit({ kind: 'publish', channel, limit: RECENT_AUDIT_LIMIT }),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    /** The audit badge: the gateway keeps the result, so asking often is cheap. */
    auditVerification: () =>
      queryOptions({
        queryKey: AUDIT_VERIFICATION_KEY,
        queryFn: () => api.auditVerification(),
        refetchInterval: LIVE_REFRESH_MS,
      }),
  }
}

export type DashboardQueries = ReturnType<typeof dashboardQueries>
