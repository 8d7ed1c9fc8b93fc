import type { AgentKeyList, TokenList } from '@parley/protocol/admin'
import type { GatewayResult } from './gateway-result'

/** A principal the admin API names: an API token's principal is its id, an agent key's its identity. */
export type KnownPrincipal = { id: string; name: string; kind: 'token' | 'agent key'; revoked: boolean }

/** Every token and agent key the answers list (none from a failed or missing answer). */
export function knownPrincipals(
  tokens: GatewayResult<TokenList> | undefined,
  agentKeys: GatewayResult<AgentKeyList> | undefined,
): KnownPrincipal[] {
  const known: KnownPrincipal[] = []
  if (tokens?.ok) {
    for (const token of tokens.data.tokens) {
      known.push({ id: token.id, name: token.name, kind: 'token', revoked: token.revokedAt !== null })
    }
  }
  if (agentKeys?.ok) {
    for (const key of agentKeys.data.agentKeys) {
      known.push({ id: key.id, name: key.name, kind: 'agent key', revoked: key.revokedAt !== null })
    }
  }
  return known
}

/** How a principal reads in a table: its name when the admin API knows it, with the id for a tooltip. */
export function describePrincipal(
  principal: string,
  byId: ReadonlyMap<string, KnownPrincipal>,
): { label: string; title: string; named: boolean } {
  const known = byId.get(principal)
  if (known === undefined || known.name.trim() === '')
    return { label: principal, title: principal, named: false }
  return {
    label: known.name,
    title: `${principal} (${known.kind}${known.revoked ? ', revoked' : ''})`,
    named: true,
  }
}

/**
 * The principals whose name or id contains `text` (any case), live ones first, at most `limit`: what the
 * policy form's picker offers.
 */
export function searchPrincipals(
  known: readonly KnownPrincipal[],
  text: string,
  limit = 8,
): KnownPrincipal[] {
  const needle = text.trim().toLowerCase()
  if (needle === '') return []
  return known
    .filter(
      (principal) =>
        principal.name.toLowerCase().includes(needle) || principal.id.toLowerCase().includes(needle),
    )
    .sort((a, b) => Number(a.revoked) - Number(b.revoked) || a.name.localeCompare(b.name))
    .slice(0, limit)
}
