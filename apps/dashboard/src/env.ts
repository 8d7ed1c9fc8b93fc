import { readFileSync } from 'node:fs'
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

type Source = Record<string, string | undefined>
type ReadTextFile = (path: string) => string

/**
 * `name`, or the content of the file `<name>_FILE` names (container secrets, as on the gateway). Both set, or
 * an unreadable file, is an error naming the variable and the path, never the value.
 */
function valueOrFile(source: Source, name: string, readFile: ReadTextFile): string | undefined {
  const direct = setOrUndefined(source[name])
  const path = setOrUndefined(source[`${name}_FILE`])
  if (path === undefined) return direct
  if (direct !== undefined)
    throw new Error(`Invalid dashboard environment: ${name} and ${name}_FILE are both set`)
  try {
    return setOrUndefined(readFile(path))
  } catch {
    throw new Error(`Invalid dashboard environment: ${name}_FILE names ${path}, which cannot be read`)
  }
}

export function readEnv(
  source: Source = process.env,
  readFile: ReadTextFile = (path) => readFileSync(path, 'utf8'),
): DashboardEnv {
  const parsed = EnvSchema.safeParse({
    PARLEY_GATEWAY_URL: valueOrFile(source, 'PARLEY_GATEWAY_URL', readFile),
    PARLEY_DASHBOARD_SECRET: valueOrFile(source, 'PARLEY_DASHBOARD_SECRET', readFile),
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
