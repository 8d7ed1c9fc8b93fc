import { ROLES, type Role } from '@parley/protocol'
import type { Logger } from 'pino'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { AuthFailureLimiter } from './auth-failure-limiter.js'
import type { AuthProvider, AuthRequest, AuthResult, Principal } from './auth-provider.js'
import { ALL_SCOPES } from './scopes.js'

export interface Authenticated {
  ok: true
  principal: Principal
  /** The revocable credential behind it (an API token id), when there is one. */
  tokenId: string | undefined
  /** When the credential expires (epoch ms), when it does. */
  expiresAt: number | undefined
  metadata: Record<string, unknown>
}

export interface Refused {
  ok: false
  code: 'unauthorized' | 'rate_limited' | 'unavailable'
  message: string
  retryAfterMs?: number
}

export type AuthOutcome = Authenticated | Refused

export interface AuthCounters {
  authFailures: number
  authRateLimited: number
}

export interface AuthenticatorDeps {
  provider: () => AuthProvider
  limiter: AuthFailureLimiter
  audit: ConnectionAudit
  logger: Logger
  counters: AuthCounters
}

/** Where the attempt happened, for the audit row. */
export interface AuthContext {
  connectionId?: string
  /** Such as `websocket` or `admin api`. */
  surface: string
}

/** Tells a refused caller for how long, in whole seconds (the `Retry-After` header says the same). */
export function rateLimitedMessage(retryAfterMs: number): string {
  return `too many failed authentication attempts; try again in ${Math.ceil(retryAfterMs / 1000)} s`
}

/**
 * Runs one credential check: the failed-auth limit of the address and credential first (before any store
 * is touched; see auth-failure-limiter.ts for why a valid credential is not locked out), then the
 * provider. A provider that throws or rejects denies (`unavailable`: the failure is ours, not the
 * client's, so it does not count against the address). Refusals are audited, except repeated refusals by
 * the rate limit within a window, which are only counted: a flood must not flood the audit buffer.
 */
export function createAuthenticator(deps: AuthenticatorDeps) {
  const { limiter, audit, logger, counters } = deps

  function auditFailure(request: AuthRequest, context: AuthContext, detail: string): void {
    audit.authFailure({
      ...(context.connectionId === undefined ? {} : { connectionId: context.connectionId }),
      ...(request.clientId === undefined ? {} : { clientId: request.clientId }),
      detail: `${context.surface}: ${detail}${request.remoteAddress === null ? '' : ` from ${request.remoteAddress}`}`,
    })
  }

  /** `provider` replaces the configured one for this check (the admin API puts its admin token first). */
  return async function authenticate(
    request: AuthRequest,
    context: AuthContext,
    provider: AuthProvider = deps.provider(),
  ): Promise<AuthOutcome> {
    const limit = limiter.check(request.remoteAddress, request.token, request.relayedBy)
    if (!limit.allowed) {
      counters.authRateLimited += 1
      if (limit.firstRefusal) auditFailure(request, context, 'too many failed attempts; refusing for a while')
      return {
        ok: false,
        code: 'rate_limited',
        message: rateLimitedMessage(limit.retryAfterMs),
        retryAfterMs: limit.retryAfterMs,
      }
    }
    let result: AuthResult
    try {
      result = await provider.check(request)
    } catch (error) {
      counters.authFailures += 1
      logger.error({ err: error, surface: context.surface }, 'auth provider failed; denying')
      auditFailure(request, context, 'auth provider failed')
      return { ok: false, code: 'unavailable', message: 'credentials could not be checked; try again' }
    }
    const principal = result.success ? toPrincipal(result) : undefined
    if (principal === undefined) {
      counters.authFailures += 1
      limiter.recordFailure(request.remoteAddress, request.token, request.relayedBy)
      const reason = result.metadata?.reason
      const detail =
        typeof reason === 'string'
          ? reason
          : result.success
            ? 'unknown role'
            : request.token === undefined
              ? 'missing token'
              : 'denied'
      auditFailure(request, context, detail)
      return {
        ok: false,
        code: 'unauthorized',
        message: request.token === undefined ? 'an auth token is required' : 'invalid auth token',
      }
    }
    limiter.recordSuccess(request.token)
    const metadata = result.metadata ?? {}
    return {
      ok: true,
      principal,
      tokenId: typeof metadata.tokenId === 'string' ? metadata.tokenId : undefined,
      expiresAt: typeof metadata.expiresAt === 'number' ? metadata.expiresAt : undefined,
      metadata,
    }
  }
}

export type Authenticate = ReturnType<typeof createAuthenticator>

/** Fills in the documented defaults of a successful result; undefined when its role is not one we know. */
function toPrincipal(result: AuthResult): Principal | undefined {
  const role: Role = result.role ?? 'client'
  if (!(ROLES as readonly string[]).includes(role)) return undefined
  const scopes = Array.isArray(result.scopes)
    ? result.scopes.filter((scope): scope is string => typeof scope === 'string')
    : [...ALL_SCOPES]
  return { id: result.userId ?? 'anonymous', role, scopes }
}
