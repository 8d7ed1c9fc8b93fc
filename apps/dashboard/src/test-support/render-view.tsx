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

/** One request the view sent to a dashboard route: method, URL and parsed JSON body. */
export type SentRequest = { method: string; url: string; body: unknown }

/**
 * Replaces `fetch` with several dashboard routes: `answer(request)` gets every call (method, URL, body) and
 * returns the answer, or undefined for a 404. Returns the requests sent, in order.
 */
export function stubDashboardRoutes(
  answer: (request: SentRequest) => RouteAnswer | undefined,
): SentRequest[] {
  const sent: SentRequest[] = []
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    const text = typeof init?.body === 'string' ? init.body : undefined
    const request: SentRequest = {
      method: init?.method ?? 'GET',
      url,
      body: text === undefined ? undefined : JSON.parse(text),
    }
    sent.push(request)
    const found = answer(request)
    if (found === undefined) return new Response('{}', { status: 404 })
    return new Response(JSON.stringify(found.body), {
      status: found.status,
      headers: { 'content-type': 'application/json' },
    })
  })
  return sent
}

/** The answer of a dashboard route that succeeded with `data`. */
export function okAnswer(data: unknown): RouteAnswer {
  return { status: 200, body: { ok: true, data } }
}

/** The answer of a dashboard route whose gateway refused the call with an error envelope. */
export function httpFailureAnswer(status: number, code: string, message: string): RouteAnswer {
  return { status, body: { ok: false, failure: { kind: 'http', status, code, message } } }
}
