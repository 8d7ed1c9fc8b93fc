import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { deadLetterSearchParams, normaliseDeadLetterFilters, parseDeadLetterRequest } from '@/lib/dlq-filters'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { DeliveriesView } from './deliveries-view'

export const metadata: Metadata = { title: 'Deliveries' }

export default async function DeliveriesPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>
}) {
  // Filters live in the URL, so a filtered view can be reloaded, shared and prefetched here.
  const parsed = parseDeadLetterRequest(await searchParams)
  const filters = parsed.ok ? normaliseDeadLetterFilters(parsed.request) : {}

  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  const deadLetters = queries.deadLetters(filters)
  const [stats] = await Promise.all([
    queryClient.fetchQuery(queries.deliveryStats()),
    queryClient.prefetchInfiniteQuery(deadLetters),
  ])
  redirectIfUnauthorized(stats, queryClient.getQueryData(deadLetters.queryKey)?.pages[0])

  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      {/* Keyed by the filters: another view starts without the last one's notice or inspected row. */}
      <DeliveriesView
        key={deadLetterSearchParams(filters).toString()}
        filters={filters}
        filterError={parsed.ok ? undefined : parsed.message}
      />
    </HydrationBoundary>
  )
}
