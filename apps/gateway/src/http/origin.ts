/** Lower-cased `scheme://host[:port]`, or undefined for anything that is not a URL origin (such as `null`). */
function normalizeOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin)
    return url.origin === 'null' ? undefined : url.origin.toLowerCase()
  } catch {
    return undefined
  }
}

/**
 * Whether a browser `Origin` may open a WebSocket. `*` allows any origin; otherwise the origin must be listed.
 * Loopback origins get no exemption: any local web page could otherwise reach the gateway.
 */
export function isOriginAllowed(origin: string, allowedOrigins: readonly string[]): boolean {
  if (allowedOrigins.includes('*')) return true
  const normalized = normalizeOrigin(origin)
  if (normalized === undefined) return false
  return allowedOrigins.some((allowed) => normalizeOrigin(allowed) === normalized)
}
