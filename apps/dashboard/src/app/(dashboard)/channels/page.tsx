import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { ChannelsView } from './channels-view'

export const metadata: Metadata = { title: 'Channels' }

export default async function ChannelsPage() {
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  redirectIfUnauthorized(await queryClient.fetchQuery(queries.channels()))
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <ChannelsView />
    </HydrationBoundary>
  )
}
