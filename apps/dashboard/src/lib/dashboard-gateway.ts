import type { DashboardEnv } from '@/env'
import { createGatewayClient, type GatewayClient } from './gateway-client'
import { normaliseSessionSecret, SESSION_COOKIE } from './session-cookie'

/** An IPv4 or IPv6 address as text; anything else in the header is not an address. */
const ADDRESS_PATTERN = /^[0-9A-Fa-f:.]{2,45}$/

/**
 * The browser's address: the last `X-Forwarded-For` entry. Next.js fills the header from the socket when a
 * request comes without one, and a reverse proxy in front appends the address it saw, so the last entry
 * is the nearest hop's view. (A browser reaching `next start` directly may send its own header: expose the
 * dashboard through a proxy that sets it, see docs/operations.md.)
 */
export function browserAddressOf(headers: Headers): string | undefined {
  const last = headers.get('x-forwarded-for')?.split(',').at(-1)?.trim()
  return last !== undefined && ADDRESS_PATTERN.test(last) ? last : undefined
}

/**
 * The session secret of a `Cookie` header, read without trusting anything else in it. Only the shape of
 * a gateway session secret is accepted (never a raw token, such as an old cookie from before sessions).
 */
export function sessionSecretOf(cookieHeader: string | null): string | undefined {
  if (cookieHeader === null) return undefined
  for (const part of cookieHeader.split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name !== SESSION_COOKIE) continue
    return normaliseSessionSecret(value.join('='))
  }
  return undefined
}

/**
 * The gateway client of one browser request: `credential` (its session secret, or the typed admin token at
 * login) as the Bearer token, and the browser's address with the dashboard secret when one is configured.
 */
export function gatewayClientFor(
  env: DashboardEnv,
  credential: string | undefined,
  headers: Headers,
  fetchImpl?: typeof fetch,
): GatewayClient {
  return createGatewayClient({
    baseUrl: env.gatewayUrl,
    token: credential,
    dashboardSecret: env.dashboardSecret,
    clientAddress: browserAddressOf(headers),
    ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }),
  })
}
