import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { cleanup, render } from '@testing-library/react'
import type { ReactElement } from 'react'
import { vi } from 'vitest'

/** One answer of a dashboard route (`/api/gw/*`): its HTTP status and JSON body. */
export type RouteAnswer = { status: number; body: unknown }

const queryClients: QueryClient[] = []

/**
 * Replaces `fetch` so the browser API's calls to `path` get `answer(n)` for their n-th call (from 0), and
 * anything else a 404. Returns the URLs fetched, in order.
 */
export function stubDashboardRoute(path: string, answer: (call: number) => RouteAnswer): string[] {
  const fetched: string[] = []
  vi.stubGlobal('fetch', async (input: RequestInfo | URL) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    fetched.push(url)
    if (url !== path) return new Response('{}', { status: 404 })
    const { status, body } = answer(fetched.filter((seen) => seen === path).length - 1)
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
  })
  return fetched
}

/** Renders a page's client view with its own query client (no retries: a failure shows at once). */
export function renderView(view: ReactElement) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  queryClients.push(queryClient)
  return render(<QueryClientProvider client={queryClient}>{view}</QueryClientProvider>)
}

/** For `afterEach`: unmounts, stops every query's refetch timer and restores `fetch` and the clock. */
export function cleanUpViews(): void {
  cleanup()
  for (const queryClient of queryClients.splice(0)) queryClient.clear()
  vi.unstubAllGlobals()
  vi.useRealTimers()
}
