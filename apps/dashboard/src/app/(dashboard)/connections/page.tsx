import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { ConnectionsView } from './connections-view'

export const metadata: Metadata = { title: 'Connections' }

export default async function ConnectionsPage() {
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  redirectIfUnauthorized(await queryClient.fetchQuery(queries.connections()))
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <ConnectionsView />
    </HydrationBoundary>
  )
}
