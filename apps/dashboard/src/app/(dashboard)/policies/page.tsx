import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { PoliciesView } from './policies-view'

export const metadata: Metadata = { title: 'Policies' }

export default async function PoliciesPage() {
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  redirectIfUnauthorized(await queryClient.fetchQuery(queries.policies()))
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <PoliciesView />
    </HydrationBoundary>
  )
}
