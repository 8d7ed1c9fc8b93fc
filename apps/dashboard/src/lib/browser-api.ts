import { z } from 'zod'
import {
  type AccessActions,
  type AdminSend,
  type AgentActions,
  callAdminOver,
  type DashboardApi,
  type DeadLetterActions,
  dashboardCallsOver,
  type UpstreamActions,
} from './dashboard-api'
import { proxyPathOf } from './gateway-proxy-paths'
import { failed, gatewayResultSchema } from './gateway-result'
import { dashboardQueries } from './queries'

export { GATEWAY_ROUTES_PREFIX } from './gateway-proxy-paths'

/**
 * One request of the browser: through the dashboard's `/api/gw` proxy, which adds the session's token on the
 * server. The answer is a `GatewayResult`, parsed again here with the table's schema: the proxy is ours, but
 * the data is the gateway's.
 */
const sendThroughDashboard: AdminSend = async (endpoint, path, body) => {
  const url = proxyPathOf(path)
  let response: Response
  try {
    response = await fetch(url, {
      method: endpoint.method,
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
  // A 204 of the gateway has no data to check: whatever the proxy says beside `ok` is not looked at.
  const noContent = endpoint.status === 204
  // The proxy answers a 204 with `{ ok: true }`: no `data` key at all.
  const parsed = gatewayResultSchema(noContent ? z.unknown().optional() : endpoint.response).safeParse(answer)
  if (parsed.success) return noContent && parsed.data.ok ? { ok: true, data: undefined } : parsed.data
  return failed({
    kind: 'dashboard_unreachable',
    reason: `unexpected answer from ${url} (HTTP ${response.status})`,
  })
}

/** Any endpoint of the table, from the browser (through the proxy). */
export const browserCall = callAdminOver(sendThroughDashboard)

/** The `DashboardApi` of client components: the browser never holds the admin token. */
export const browserApi: DashboardApi & DeadLetterActions & AccessActions & AgentActions & UpstreamActions =
  dashboardCallsOver(browserCall)

/** The query factories every client component uses. */
export const browserQueries = dashboardQueries(browserApi)
