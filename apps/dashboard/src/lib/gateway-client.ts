import { CLIENT_ADDRESS_HEADER, DASHBOARD_SECRET_HEADER, HttpError } from '@parley/protocol/admin'
import type { z } from 'zod'
import { type AdminSend, callAdminOver, dashboardCallsOver, type GatewayClient } from './dashboard-api'
import { failed, type GatewayFailure, succeeded } from './gateway-result'

export type {
  AccessActions,
  AgentActions,
  DashboardApi,
  DeadLetterActions,
  GatewayClient,
  UpstreamActions,
} from './dashboard-api'

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

  /** One request to the gateway: `/api/admin/*` carries the session (or, at login, the admin token). */
  const send: AdminSend = async (endpoint, path, body) => {
    const url = `${baseUrl}${path}`
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (path.startsWith('/api/admin/')) {
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
        method: endpoint.method,
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
    // A 204 (a deletion): any 2xx succeeds, whatever the body, since only the status says it happened.
    if (endpoint.status === 204) return succeeded(undefined)
    if (answer === undefined) return failed({ kind: 'invalid_response', url, reason: 'the body is not JSON' })
    const parsed = endpoint.response.safeParse(answer)
    if (!parsed.success)
      return failed({ kind: 'invalid_response', url, reason: summariseIssues(parsed.error) })
    return succeeded(parsed.data)
  }

  return dashboardCallsOver(callAdminOver(send))
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
