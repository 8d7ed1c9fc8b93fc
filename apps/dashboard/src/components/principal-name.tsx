'use client'

import { useQuery } from '@tanstack/react-query'
import { useMemo } from 'react'
import { browserQueries } from '@/lib/browser-api'
import { formatMatcher } from '@/lib/policy-forms'
import { describePrincipal, type KnownPrincipal, knownPrincipals } from '@/lib/principal-names'

/** The tokens and agent keys, by id, from the same live queries as the Access page. */
export function usePrincipalDirectory(): {
  known: KnownPrincipal[]
  byId: ReadonlyMap<string, KnownPrincipal>
} {
  const tokens = useQuery(browserQueries.tokens()).data
  const agentKeys = useQuery(browserQueries.agentKeys()).data
  return useMemo(() => {
    const known = knownPrincipals(tokens, agentKeys)
    return { known, byId: new Map(known.map((principal) => [principal.id, principal])) }
  }, [tokens, agentKeys])
}

/**
 * A principal as an operator reads it: the token's or agent key's name, the id in the tooltip (and in
 * `data-principal`); an id the admin API does not name (a JWT subject, `anonymous`) as it is.
 */
export function PrincipalName({ principal }: { principal: string | null }) {
  const { byId } = usePrincipalDirectory()
  if (principal === null) return <span className="muted">—</span>
  const { label, title, named } = describePrincipal(principal, byId)
  return (
    <span
      className={named ? 'principal-name' : 'principal-name mono'}
      title={title}
      data-principal={principal}
      data-testid="principal-name"
    >
      {label}
    </span>
  )
}

/** A policy rule's subject or target (`kind:pattern`), a principal pattern that is an id shown by name. */
export function MatcherText({ matcher }: { matcher: { kind: string; pattern: string } }) {
  if (matcher.kind !== 'principal') return <>{formatMatcher(matcher)}</>
  return (
    <>
      principal:
      <PrincipalName principal={matcher.pattern} />
    </>
  )
}
