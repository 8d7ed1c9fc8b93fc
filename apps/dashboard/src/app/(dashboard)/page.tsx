import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { OverviewView } from './overview-view'

export default async function OverviewPage() {
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  const results = await Promise.all([
    queryClient.fetchQuery(queries.health()),
    queryClient.fetchQuery(queries.connections()),
    queryClient.fetchQuery(queries.channels()),
    queryClient.fetchQuery(queries.recentAudit()),
  ])
  redirectIfUnauthorized(...results)
  // The charts' figures hydrate too, so the first paint has them; a failure shows in their own banner.
  await queryClient.prefetchQuery(queries.timeseries())
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <OverviewView />
    </HydrationBoundary>
  )
}
