import { z } from 'zod'

/**
 * The only place that reads `process.env`. Everything else receives a typed `DashboardEnv`. It is parsed
 * on each call (cheap) rather than at import, so `next build` never fails on a missing variable.
 */
export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8765'

const EnvSchema = z.object({
  PARLEY_GATEWAY_URL: z
    .url({ protocol: /^https?$/, error: 'PARLEY_GATEWAY_URL must be an http(s) URL' })
    .optional(),
  PARLEY_DASHBOARD_SECRET: z
    .string()
    .min(32, 'PARLEY_DASHBOARD_SECRET must be at least 32 characters (the same value as the gateway’s)')
    .optional(),
})

export interface DashboardEnv {
  /** Base URL of the gateway's HTTP API, without a trailing slash. */
  gatewayUrl: string
  /**
   * Shared with the gateway (`PARLEY_DASHBOARD_SECRET` on both): with it the gateway believes the browser
   * address the dashboard names, so one browser's wrong logins count against that browser only.
   */
  dashboardSecret?: string | undefined
  /** `next dev`: its React tooling needs `eval`, so the CSP allows it there (never in a build). */
  development?: boolean
}

/** An empty variable (e.g. `PARLEY_GATEWAY_URL=` in a compose file) means "use the default". */
function setOrUndefined(value: string | undefined): string | undefined {
  const trimmed = value?.trim()
  return trimmed === '' ? undefined : trimmed
}

export function readEnv(source: Record<string, string | undefined> = process.env): DashboardEnv {
  const parsed = EnvSchema.safeParse({
    PARLEY_GATEWAY_URL: setOrUndefined(source.PARLEY_GATEWAY_URL),
    PARLEY_DASHBOARD_SECRET: setOrUndefined(source.PARLEY_DASHBOARD_SECRET),
  })
  if (!parsed.success) {
    throw new Error(`Invalid dashboard environment: ${z.prettifyError(parsed.error)}`)
  }
  const gatewayUrl = (parsed.data.PARLEY_GATEWAY_URL ?? DEFAULT_GATEWAY_URL).replace(/\/+$/, '')
  return {
    gatewayUrl,
    dashboardSecret: parsed.data.PARLEY_DASHBOARD_SECRET,
    development: source.NODE_ENV === 'development',
  }
}
