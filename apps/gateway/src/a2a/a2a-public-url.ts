import type { Context } from 'hono'
import { createAddressMatcher, normaliseAddress } from '../http/client-address.js'
import type { GatewayEnv } from '../http/create-app.js'

/** A host name or address with an optional port, as `X-Forwarded-Host` may carry it: nothing else is believed. */
const FORWARDED_HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** The first (client-facing) entry of a forwarded header a chain of proxies appended to. */
function firstHop(value: string | undefined): string | undefined {
  const first = value?.split(',')[0]?.trim()
  return first === undefined || first === '' ? undefined : first
}

/**
 * The gateway's public base URL as a caller reaches it, for the URLs on A2A cards: the configured public URL
 * (`pairing.publicUrl`, PARLEY_PUBLIC_URL) when set; else, when the request came from a trusted proxy
 * (`trustedProxies`), the scheme and host it names in `X-Forwarded-Proto` / `X-Forwarded-Host`; else the
 * request's own origin. The forwarded headers of any other peer are ignored: a caller cannot make the card
 * name another host.
 */
export function createPublicBaseUrl(options: {
  publicUrl: string | undefined
  trustedProxies: readonly string[]
}) {
  const configured = options.publicUrl?.replace(/\/+$/, '')
  const isTrusted = createAddressMatcher(options.trustedProxies)
  return (c: Context<GatewayEnv>): string => {
    if (configured !== undefined) return configured
    const origin = new URL(c.req.url)
    const peer = c.env?.incoming?.socket.remoteAddress
    if (peer === undefined || !isTrusted(normaliseAddress(peer))) return origin.origin
    const proto = firstHop(c.req.header('x-forwarded-proto'))?.toLowerCase()
    const host = firstHop(c.req.header('x-forwarded-host'))
    const scheme = proto === 'http' || proto === 'https' ? proto : origin.protocol.slice(0, -1)
    const authority = host !== undefined && FORWARDED_HOST.test(host) ? host : origin.host
    return `${scheme}://${authority}`
  }
}
