import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { readFields } from '@/lib/search-params'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { AgentDetailView } from './agent-detail-view'

export const metadata: Metadata = { title: 'Agent' }

export default async function AgentPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>
}) {
  const { id = '' } = readFields(await searchParams, ['id'])
  const agentId = id.slice(0, 200)
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  redirectIfUnauthorized(await queryClient.fetchQuery(queries.agents()))
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <AgentDetailView agentId={agentId} />
    </HydrationBoundary>
  )
}
