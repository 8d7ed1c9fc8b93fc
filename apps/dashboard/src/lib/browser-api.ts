import {
  type AuditPage,
  AuditPage as AuditPageSchema,
  type ChannelList,
  ChannelList as ChannelListSchema,
  type ConnectionList,
  ConnectionList as ConnectionListSchema,
  type Health,
  Health as HealthSchema,
} from '@parley/protocol/admin'
import type { z } from 'zod'
import { type AuditRequest, auditSearchParams } from './audit-filters'
import type { DashboardApi } from './gateway-client'
import { failed, type GatewayResult, gatewayResultSchema } from './gateway-result'
import { dashboardQueries } from './queries'

/** Prefix of the dashboard's route handlers that call the gateway with the session's token. */
export const GATEWAY_ROUTES_PREFIX = '/api/gw'

async function getResult<T>(path: string, schema: z.ZodType<T>): Promise<GatewayResult<T>> {
  let response: Response
  try {
    response = await fetch(`${GATEWAY_ROUTES_PREFIX}${path}`, {
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

/** The `DashboardApi` of client components: the browser never holds the admin token. */
export const browserApi: DashboardApi = {
  health: (): Promise<GatewayResult<Health>> => getResult('/health', HealthSchema),
  connections: (): Promise<GatewayResult<ConnectionList>> => getResult('/connections', ConnectionListSchema),
  channels: (): Promise<GatewayResult<ChannelList>> => getResult('/channels', ChannelListSchema),
  audit: (request: AuditRequest): Promise<GatewayResult<AuditPage>> => {
    const query = auditSearchParams(request).toString()
    return getResult(`/audit${query === '' ? '' : `?${query}`}`, AuditPageSchema)
  },
}

/** The query factories every client component uses. */
export const browserQueries = dashboardQueries(browserApi)
