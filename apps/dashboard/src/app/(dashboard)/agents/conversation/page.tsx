import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { readFields } from '@/lib/search-params'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { ConversationView } from './conversation-view'

export const metadata: Metadata = { title: 'Conversation' }

export default async function ConversationPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>
}) {
  const { a = '', b = '' } = readFields(await searchParams, ['a', 'b'])
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  redirectIfUnauthorized(await queryClient.fetchQuery(queries.agents()))
  // The rows themselves are fetched by the browser: paged (infinite) queries are not prefetched here.
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <ConversationView initial={{ a: a.slice(0, 200), b: b.slice(0, 200) }} />
    </HydrationBoundary>
  )
}
