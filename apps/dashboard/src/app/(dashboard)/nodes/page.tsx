import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { NodesView } from './nodes-view'

export const metadata: Metadata = { title: 'Nodes' }

export default async function NodesPage() {
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  redirectIfUnauthorized(await queryClient.fetchQuery(queries.nodes()))
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <NodesView />
    </HydrationBoundary>
  )
}
