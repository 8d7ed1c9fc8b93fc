import type { SessionPrincipal } from './types.js'

/** Who a session is bound to: the principal and its role. Metadata is descriptive and not compared. */
export function samePrincipal(a: SessionPrincipal, b: SessionPrincipal): boolean {
  return a.principal === b.principal && a.role === b.role
}
