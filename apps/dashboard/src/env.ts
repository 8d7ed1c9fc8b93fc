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
})

export interface DashboardEnv {
  /** Base URL of the gateway's HTTP API, without a trailing slash. */
  gatewayUrl: string
}

export function readEnv(source: Record<string, string | undefined> = process.env): DashboardEnv {
  // An empty variable (e.g. `PARLEY_GATEWAY_URL=` in a compose file) means "use the default".
  const raw = source.PARLEY_GATEWAY_URL?.trim()
  const parsed = EnvSchema.safeParse({ PARLEY_GATEWAY_URL: raw === '' ? undefined : raw })
  if (!parsed.success) {
    throw new Error(`Invalid dashboard environment: ${z.prettifyError(parsed.error)}`)
  }
  const gatewayUrl = (parsed.data.PARLEY_GATEWAY_URL ?? DEFAULT_GATEWAY_URL).replace(/\/+$/, '')
  return { gatewayUrl }
}
