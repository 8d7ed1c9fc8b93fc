import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { AgentsView } from './agents-view'

export const metadata: Metadata = { title: 'Agents' }

export default async function AgentsPage() {
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  const [agents, grants, a2aAgents] = await Promise.all([
    queryClient.fetchQuery(queries.agents()),
    queryClient.fetchQuery(queries.grants(false)),
    queryClient.fetchQuery(queries.a2aAgents()),
  ])
  redirectIfUnauthorized(agents, grants, a2aAgents)
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <AgentsView />
    </HydrationBoundary>
  )
}
