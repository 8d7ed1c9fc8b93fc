import {
  type AuditPage,
  AuditPage as AuditPageSchema,
  type ChannelList,
  ChannelList as ChannelListSchema,
  type ConnectionList,
  ConnectionList as ConnectionListSchema,
  type DeadLetter,
  type DeadLetterPage,
  DeadLetterPage as DeadLetterPageSchema,
  DeadLetter as DeadLetterSchema,
  type DeliveryStats,
  DeliveryStats as DeliveryStatsSchema,
  type Health,
  Health as HealthSchema,
  type PurgeResult,
  PurgeResult as PurgeResultSchema,
  type RequeueResult,
  RequeueResult as RequeueResultSchema,
} from '@parley/protocol/admin'
import type { z } from 'zod'
import { type AuditRequest, auditSearchParams } from './audit-filters'
import {
  type DeadLetterFilters,
  type DeadLetterRequest,
  deadLetterSearchParams,
  purgeSearchParams,
} from './dlq-filters'
import type { DashboardApi, DeadLetterActions } from './gateway-client'
import { failed, type GatewayResult, gatewayResultSchema } from './gateway-result'
import { dashboardQueries } from './queries'

/** Prefix of the dashboard's route handlers that call the gateway with the session's token. */
export const GATEWAY_ROUTES_PREFIX = '/api/gw'

async function getResult<T>(
  path: string,
  schema: z.ZodType<T>,
  method: 'GET' | 'POST' | 'DELETE' = 'GET',
): Promise<GatewayResult<T>> {
  let response: Response
  try {
    response = await fetch(`${GATEWAY_ROUTES_PREFIX}${path}`, {
      method,
      headers: { accept: 'application/json' },
      cache: 'no-store',
      credentials: 'same-origin',
    })
  } catch (error) {
    return failed({
      kind: 'dashboard_unreachable',
      reason: error instanceof Error ? error.message : String(error),
    })
  }
  let body: unknown
  try {
    body = await response.json()
  } catch {
    body = undefined
  }
  // Parsed again here with the protocol schemas: the route handler is ours, but the data is the gateway's.
  const parsed = gatewayResultSchema(schema).safeParse(body)
  if (parsed.success) return parsed.data
  return failed({
    kind: 'dashboard_unreachable',
    reason: `unexpected answer from ${GATEWAY_ROUTES_PREFIX}${path} (HTTP ${response.status})`,
  })
}

function withQuery(query: string): string {
  return query === '' ? '' : `?${query}`
}

function dlqPath(id: string): string {
  return `/dlq/${encodeURIComponent(id)}`
}

/** The `DashboardApi` of client components: the browser never holds the admin token. */
export const browserApi: DashboardApi & DeadLetterActions = {
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
}

/** The query factories every client component uses. */
export const browserQueries = dashboardQueries(browserApi)
