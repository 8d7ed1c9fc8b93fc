import type { DeadLetter, DeadLetterPage } from '@parley/protocol/admin'
import type { InfiniteData } from '@tanstack/react-query'
import type { GatewayResult } from './gateway-result'

/** What the dead-letter queue's infinite query holds: one gateway answer per page. */
export type DeadLetterPages = InfiniteData<GatewayResult<DeadLetterPage>, string | null>

/**
 * The rows of every page in order, each id once. Pages are refetched one after the other while new dead
 * letters arrive, so a row can briefly sit on two pages; React needs unique keys.
 */
export function deadLettersOf(pages: ReadonlyArray<GatewayResult<DeadLetterPage>>): DeadLetter[] {
  const seen = new Set<string>()
  const rows: DeadLetter[] = []
  for (const page of pages) {
    if (!page.ok) continue
    for (const letter of page.data.deadLetters) {
      if (seen.has(letter.id)) continue
      seen.add(letter.id)
      rows.push(letter)
    }
  }
  return rows
}

/**
 * The cached pages without one dead letter: after a requeue or purge the row goes at once, not at the
 * next refresh. Pages and cursors are kept as they are; the refetch that follows brings the truth.
 */
export function withoutDeadLetter(data: DeadLetterPages, id: string): DeadLetterPages {
  return {
    ...data,
    pages: data.pages.map((page) =>
      page.ok && page.data.deadLetters.some((letter) => letter.id === id)
        ? {
            ok: true as const,
            data: { ...page.data, deadLetters: page.data.deadLetters.filter((letter) => letter.id !== id) },
          }
        : page,
    ),
  }
}

/**
 * A list after "purge all matching" its own filters: nothing is left in it, so it shows empty at once
 * instead of at the next refresh.
 */
export function purgedDeadLetterPages(): DeadLetterPages {
  return { pages: [{ ok: true, data: { deadLetters: [], nextCursor: null } }], pageParams: [null] }
}
