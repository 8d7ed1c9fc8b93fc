import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { PresenceView } from './presence-view'

export const metadata: Metadata = { title: 'Presence' }

export default async function PresencePage() {
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  redirectIfUnauthorized(await queryClient.fetchQuery(queries.presence()))
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <PresenceView />
    </HydrationBoundary>
  )
}
