import type { Role } from '@parley/protocol'

/** What a credential check sees: the presented token (if any) and where the request came from. */
export interface AuthRequest {
  token?: string
  remoteAddress: string | null
  /**
   * Set when `remoteAddress` was named by the dashboard server (its own address): the failed-auth limit
   * also bounds the guesses relayed by it, whatever addresses it names.
   */
  relayedBy?: string
  /** The browser `Origin` header, when there was one. */
  origin: string | null
  /** The client id asked for in `hello` (WebSocket only). */
  clientId?: string
  /** `polling`: a WebSocket-equivalent session over HTTP long-polling (`/poll`). */
  transport: 'websocket' | 'polling' | 'http'
}

/**
 * The answer of a credential check. On success, `userId` names the principal (default `anonymous`), `role`
 * defaults to `client` and absent `scopes` grant everything (`*:*`), so a provider that knows nothing of
 * scopes still works. `metadata.tokenId` (string) ties the connection to a revocable credential and
 * `metadata.expiresAt` (epoch ms) closes it when the credential expires. On failure, `metadata.reason`
 * (string) goes to the audit row.
 */
export interface AuthResult {
  success: boolean
  userId?: string
  role?: Role
  scopes?: string[]
  metadata?: Record<string, unknown>
}

/** Pluggable authentication: a plain object with this method works; a throw or rejection means deny. */
export interface AuthProvider {
  check(request: AuthRequest): Promise<AuthResult>
}

/** Who a connection or admin request was taken to be, and what it may do. */
export interface Principal {
  id: string
  role: Role
  scopes: string[]
}
