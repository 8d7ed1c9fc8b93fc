import { describe, expect, it } from 'vitest'
import { failed, succeeded } from './gateway-result'
import { describePrincipal, knownPrincipals, searchPrincipals } from './principal-names'

const token = (id: string, name: string, revokedAt: string | null = null) => ({
  id,
  name,
  role: 'client' as const,
  scopes: [],
  subject: null,
  createdAt: '2025-05-01T10:00:00Z',
  expiresAt: null,
  revokedAt,
  lastUsedAt: null,
})
const known = knownPrincipals(
  succeeded({
    tokens: [token('tok_A1', 'billing bot'), token('tok_B2', 'old billing', '2025-05-02T00:00:00Z')],
  }),
  succeeded({
    agentKeys: [
      {
        id: 'planner',
        publicKey: 'k',
        name: 'Planner agent',
        role: 'agent' as const,
        scopes: [],
        createdAt: '2025-05-01T10:00:00Z',
        revokedAt: null,
      },
    ],
  }),
)
const byId = new Map(known.map((principal) => [principal.id, principal]))

describe('describePrincipal', () => {
  it('names a token principal, with its id in the tooltip', () => {
    expect(describePrincipal('tok_A1', byId)).toEqual({
      label: 'billing bot',
      title: 'tok_A1 (token)',
      named: true,
    })
  })

  it('says a revoked token is revoked in the tooltip', () => {
    expect(describePrincipal('tok_B2', byId).title).toBe('tok_B2 (token, revoked)')
  })

  it('names an agent key principal', () => {
    expect(describePrincipal('planner', byId).label).toBe('Planner agent')
  })

  it('shows a principal nobody names as it is', () => {
    expect(describePrincipal('anonymous', byId)).toEqual({
      label: 'anonymous',
      title: 'anonymous',
      named: false,
    })
  })

  it('names nothing when the lists failed', () => {
    expect(knownPrincipals(failed({ kind: 'unauthorized', message: 'no' }), undefined)).toEqual([])
  })
})

describe('searchPrincipals', () => {
  it('finds principals by a part of their name, any case, live ones first', () => {
    expect(searchPrincipals(known, 'BILLING').map((principal) => principal.id)).toEqual(['tok_A1', 'tok_B2'])
  })

  it('finds a principal by its id too, and offers nothing for an empty search', () => {
    expect(searchPrincipals(known, 'plan').map((principal) => principal.id)).toEqual(['planner'])
    expect(searchPrincipals(known, '  ')).toEqual([])
  })
})
