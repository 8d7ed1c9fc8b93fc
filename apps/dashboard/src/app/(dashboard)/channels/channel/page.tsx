import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { readFields } from '@/lib/search-params'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { ChannelDetailView } from './channel-detail-view'

export const metadata: Metadata = { title: 'Channel' }

export default async function ChannelPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>
}) {
  const { name = '' } = readFields(await searchParams, ['name'])
  const channel = name.slice(0, 200)
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  redirectIfUnauthorized(await queryClient.fetchQuery(queries.channels()))
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <ChannelDetailView channel={channel} />
    </HydrationBoundary>
  )
}
