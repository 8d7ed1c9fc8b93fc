import { isServer, QueryClient } from '@tanstack/react-query'
import { keepLastGood } from './stale-results'

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Data prefetched on the server is fresh for a moment: no refetch right after hydration.
        staleTime: 1_000,
        // Failures are data (`GatewayResult`), so a thrown error is a bug; do not hammer on it.
        retry: false,
        // A failed refresh keeps the last good answer, marked stale, instead of emptying the tables.
        structuralSharing: (previous: unknown, next: unknown) => keepLastGood(previous, next),
      },
    },
  })
}

let browserQueryClient: QueryClient | undefined

/**
 * One client per browser tab (so navigation keeps the cache), a new one per server render (so one
 * operator's data never reaches another's response).
 */
export function getQueryClient(): QueryClient {
  if (isServer) return makeQueryClient()
  browserQueryClient ??= makeQueryClient()
  return browserQueryClient
}
