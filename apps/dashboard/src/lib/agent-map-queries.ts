import type { AgentMapWindow } from '@parley/protocol/admin'
import { queryOptions } from '@tanstack/react-query'
import type { CallAdmin } from './dashboard-api'
import { LIVE_REFRESH_MS } from './queries'

export const AGENT_MAP_KEY = ['gateway', 'agent-map'] as const
export const EXCHANGES_KEY = ['gateway', 'exchanges'] as const
export const EXCHANGES_PAGE_SIZE = 20

/**
 * The map's and the replay's queries, over any `call` (the server's to prefetch, the browser's in client
 * components): same keys on both sides, so the server's data hydrates into the browser's cache.
 */
export function agentMapQueries(call: CallAdmin) {
  return {
    agentMap: (window: AgentMapWindow) =>
      queryOptions({
        queryKey: [...AGENT_MAP_KEY, window],
        queryFn: () => call('agentMap', { query: new URLSearchParams({ window }) }),
        refetchInterval: LIVE_REFRESH_MS,
      }),
    exchanges: (a: string, b: string) =>
      queryOptions({
        queryKey: [...EXCHANGES_KEY, a, b],
        queryFn: () =>
          call('conversationExchanges', {
            query: new URLSearchParams({ a, b, limit: String(EXCHANGES_PAGE_SIZE) }),
          }),
        refetchInterval: LIVE_REFRESH_MS,
      }),
  }
}
