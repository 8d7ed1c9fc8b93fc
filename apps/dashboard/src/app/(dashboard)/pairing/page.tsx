import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { PairingView } from './pairing-view'

export const metadata: Metadata = { title: 'Pairing' }

export default async function PairingPage() {
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  const [pairing, devices] = await Promise.all([
    queryClient.fetchQuery(queries.pairing()),
    queryClient.fetchQuery(queries.devices()),
  ])
  redirectIfUnauthorized(pairing, devices)

  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <PairingView />
    </HydrationBoundary>
  )
}
