import { dehydrate, HydrationBoundary } from '@tanstack/react-query'
import type { Metadata } from 'next'
import { dashboardQueries } from '@/lib/queries'
import { getServerQueryClient, redirectIfUnauthorized, serverGatewayClient } from '@/lib/server-api'
import { McpView } from './mcp-view'

export const metadata: Metadata = { title: 'MCP' }

export default async function McpPage() {
  const queryClient = getServerQueryClient()
  const queries = dashboardQueries(await serverGatewayClient())
  const [servers, tools] = await Promise.all([
    queryClient.fetchQuery(queries.mcpServers()),
    queryClient.fetchQuery(queries.mcpTools()),
  ])
  redirectIfUnauthorized(servers, tools)
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <McpView />
    </HydrationBoundary>
  )
}
