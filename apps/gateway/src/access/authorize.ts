import { type ErrorBody, errorBody, type Role } from '@parley/protocol'
import type { AccessParty, AccessRequest, AgentAccess } from '../agents/types.js'
import type { AuditSubject, ConnectionAudit } from '../audit/connection-audit.js'
import { type ScopeAction, scopeAllows, scopeAllowsBroadcast } from '../auth/scopes.js'
import { decideAccess } from './access-gate.js'

/** What a caller asks to do: a scope action on a channel or client id, or a broadcast (target `*`). */
export type AuthorizeAction = ScopeAction | 'broadcast'

/** The party asking: who it is (audit) and the scopes its credential carries. */
export interface AuthorizeParty extends AuditSubject {
  readonly role: Role
  readonly scopes: readonly string[]
}

export type Authorization = { allowed: true } | { allowed: false; error: ErrorBody }

export interface AuthorizeOptions {
  /** Policies and grants; without them only the scopes decide. */
  access: () => AgentAccess | undefined
  audit: Pick<ConnectionAudit, 'denied' | 'record'>
  /** The party as policies see it (its agent id and capabilities once it registered). */
  accessParty: (party: AuthorizeParty) => AccessParty
}

export type Authorize = (
  party: AuthorizeParty,
  action: AuthorizeAction,
  target: string,
  /** Shared state and signals check the policies themselves (their own audit kind and target party). */
  check?: 'scopes and policies' | 'scopes only',
) => Authorization

/**
 * The one access path of a request on a connection: the scopes of its credential, then the policies (`send`
 * is policy action `message` to the recipient client id). A refusal is audited here and comes back as the
 * typed error to send (`forbidden`, `policy_denied` or `introduction_required`); callers never decide.
 */
export function createAuthorize(options: AuthorizeOptions): Authorize {
  const { audit } = options
  return (party, action, target, check = 'scopes and policies') => {
    if (action === 'broadcast') {
      return scopeAllowsBroadcast(party.scopes)
        ? { allowed: true }
        : missingScope(party, action, 'publish:*', {})
    }
    const where = action === 'send' ? { target } : { channel: target }
    if (!scopeAllows(party.scopes, action, target)) {
      return missingScope(party, action, `${action}:${target}`, where)
    }
    const access = options.access()
    if (access === undefined || check === 'scopes only') return { allowed: true }
    const caller = options.accessParty(party)
    const request: AccessRequest =
      action === 'send'
        ? { action: 'message', caller, target: { principal: target, clientId: target } }
        : { action, caller, target: { channel: target } }
    const answer = decideAccess(access, audit, request, { kind: action, subject: party, ...where })
    return answer.allowed ? { allowed: true } : { allowed: false, error: answer.error }
  }

  function missingScope(
    party: AuthorizeParty,
    kind: AuthorizeAction,
    scope: string,
    where: { channel?: string; target?: string },
  ): Authorization {
    audit.denied(party, kind, where, `missing scope ${scope}`)
    return {
      allowed: false,
      error: errorBody('forbidden', `${party.principal} may not do this: it needs the scope ${scope}`),
    }
  }
}
