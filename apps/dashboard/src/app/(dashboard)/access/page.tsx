import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { AccessView } from './access-view'

export const metadata: Metadata = { title: 'Access' }

export default async function AccessPage() {
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  const [tokens, agentKeys, sessions] = await Promise.all([
    queryClient.fetchQuery(queries.tokens()),
    queryClient.fetchQuery(queries.agentKeys()),
    queryClient.fetchQuery(queries.sessions()),
  ])
  redirectIfUnauthorized(tokens, agentKeys, sessions)

  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <AccessView />
    </HydrationBoundary>
  )
}
