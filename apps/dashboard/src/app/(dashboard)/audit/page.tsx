import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { normaliseFilters, parseAuditRequest } from '@/lib/audit-filters'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { AuditView } from './audit-view'

export const metadata: Metadata = { title: 'Audit' }

export default async function AuditPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>
}) {
  // Filters live in the URL, so a filtered view can be reloaded, shared and prefetched here.
  const parsed = parseAuditRequest(await searchParams)
  const filters = parsed.ok ? normaliseFilters(parsed.request) : {}

  const queryClient = getServerQueryClient()
  const trail = dashboardQueries(await serverGatewayClient()).auditTrail(filters)
  await queryClient.prefetchInfiniteQuery(trail)
  redirectIfUnauthorized(queryClient.getQueryData(trail.queryKey)?.pages[0])

  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <AuditView filters={filters} filterError={parsed.ok ? undefined : parsed.message} />
    </HydrationBoundary>
  )
}
