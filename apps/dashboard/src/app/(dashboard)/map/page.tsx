import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { agentMapQueries } from '@/lib/agent-map-queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { AgentMapView } from './agent-map-view'

export const metadata: Metadata = { title: 'Map' }

export default async function AgentMapPage() {
  const queryClient = getServerQueryClient()
  const gateway = await serverGatewayClient()
  redirectIfUnauthorized(await queryClient.fetchQuery(agentMapQueries(gateway.call).agentMap('1h')))
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <AgentMapView />
    </HydrationBoundary>
  )
}
