import {
  ADMIN_ENDPOINTS,
  type AdminEndpointName,
  type EndpointResponse,
  fillPath,
  HttpError,
  type TokenInfo,
} from '@parley/protocol'

/**
 * `parley token create|list|revoke`: thin clients of a running gateway's admin API. The admin token goes
 * in the Authorization header only and is never printed.
 */

export interface AdminApiTarget {
  url: string
  adminToken: string
}

export interface Output {
  out: (text: string) => void
  err: (text: string) => void
}

/** A failed admin call, with the message to show; the command exits 1. */
export class AdminCallError extends Error {
  override readonly name = 'AdminCallError'
}

const REQUEST_TIMEOUT_MS = 10_000

/**
 * One call of an endpoint of the protocol's admin table (its method, path and answer schema); a failed answer
 * becomes an `AdminCallError` naming the code and message.
 */
export async function call<N extends AdminEndpointName>(
  target: AdminApiTarget,
  name: N,
  input: { params?: Record<string, string>; body?: unknown } = {},
): Promise<EndpointResponse<(typeof ADMIN_ENDPOINTS)[N]>> {
  const endpoint = ADMIN_ENDPOINTS[name]
  const { method } = endpoint
  const path = fillPath(endpoint.path, input.params ?? {})
  const { body } = input
  const base = target.url.replace(/\/$/, '')
  let response: Response
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  } catch (error) {
    const reason =
      error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : ''
    throw new AdminCallError(`Parley gateway at ${base} is unreachable${reason ? `: ${reason}` : ''}`)
  }
  const payload: unknown = await response.json().catch(() => undefined)
  if (!response.ok) {
    const parsed = HttpError.safeParse(payload)
    const detail = parsed.success
      ? `${parsed.data.error.code}: ${parsed.data.error.message}`
      : `HTTP ${response.status}`
    const hint =
      response.status === 401
        ? ' (check --admin-token or PARLEY_ADMIN_TOKEN)'
        : response.status === 403
          ? ' (the credential is not an admin one)'
          : ''
    throw new AdminCallError(`${method} ${path} failed: ${detail}${hint}`)
  }
  return endpoint.response.parse(payload) as EndpointResponse<(typeof ADMIN_ENDPOINTS)[N]>
}

function status(token: TokenInfo, now: number): string {
  if (token.revokedAt !== null) return 'revoked'
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now) return 'expired'
  return 'live'
}

export async function createToken(
  target: AdminApiTarget,
  input: { name: string; role: string; scopes: string[]; expiresIn?: number },
  output: Output,
): Promise<void> {
  const created = await call(target, 'createToken', { body: input })
  const { info } = created
  output.out(
    [
      `Created token ${info.id} (${info.name}, role ${info.role})`,
      `  scopes   ${info.scopes.join(' ') || '(none)'}`,
      `  expires  ${info.expiresAt ?? 'never'}`,
      '',
      '  Secret (shown this once; only its hash is kept):',
      '',
      `    ${created.token}`,
      '',
    ].join('\n'),
  )
}

/** Rows as aligned columns; the last column is not padded. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  '),
    )
    .join('\n')
}

export async function listTokens(target: AdminApiTarget, output: Output): Promise<void> {
  const { tokens } = await call(target, 'tokens')
  if (tokens.length === 0) {
    output.out('No tokens.')
    return
  }
  const now = Date.now()
  const rows = [
    ['ID', 'NAME', 'ROLE', 'STATUS', 'EXPIRES', 'SCOPES'],
    ...tokens.map((token) => [
      token.id,
      token.name,
      token.role,
      status(token, now),
      token.expiresAt ?? 'never',
      token.scopes.join(' ') || '-',
    ]),
  ]
  output.out(formatTable(rows))
}

export async function revokeToken(target: AdminApiTarget, id: string, output: Output): Promise<void> {
  const info = await call(target, 'revokeToken', { params: { id } })
  output.out(`Revoked token ${info.id} (${info.name}); its open connections were closed.`)
}
