import { McpServerName } from '@parley/protocol'
import { mountAdminRoutes } from '../../admin/admin-routes.js'
import { GatewayError } from '../../errors.js'
import type { GatewayApp } from '../../http/create-app.js'
import type { McpServerRegistry } from './mcp-server-registry.js'
import type { McpUpstreams } from './mcp-upstreams.js'

export interface McpServerRouteDeps {
  registry: () => McpServerRegistry
  upstreams: Pick<McpUpstreams, 'settled' | 'info'>
  /** How long `POST` waits for the first listing of the new server before it answers (`pending` then). */
  firstListingWaitMs: number
  now?: () => number
}

/** The URL as audit rows show it: no user info, no query (either may hold a secret). */
export function urlForDisplay(url: string): string {
  const parsed = new URL(url)
  return `${parsed.origin}${parsed.pathname}`
}

/**
 * Upstream MCP servers: `GET /api/admin/mcp/servers` (with each one's health and tools as this node sees them),
 * `POST` (register; answers once the first listing ended, or after `firstListingWaitMs`) and
 * `DELETE /api/admin/mcp/servers/:name`. Credentials are write-only: answers say only which kind is set.
 */
export function registerMcpServerRoutes(app: GatewayApp, deps: McpServerRouteDeps): void {
  const now = deps.now ?? Date.now

  mountAdminRoutes(app, {
    mcpServers: async () => {
      const records = await deps.registry().list()
      return { servers: records.map((record) => deps.upstreams.info(record)) }
    },
    addMcpServer: async (c, input) => {
      const request = await input.body()
      const url = new URL(request.url)
      if (url.username !== '' || url.password !== '') {
        throw new GatewayError(
          'bad_request',
          'invalid MCP server: url: must not hold a user name or password; pass them as credentials',
        )
      }
      c.set('adminAction', `mcp server add ${request.name} ${urlForDisplay(request.url)}`)
      const record = await deps.registry().add(request, now())
      await deps.registry().changed()
      await deps.upstreams.settled(record.name, deps.firstListingWaitMs)
      return deps.upstreams.info(record)
    },
    removeMcpServer: async (c, { params: { name } }) => {
      c.set('adminAction', `mcp server remove ${name.slice(0, 100)}`)
      // A name no server can have is not looked up (the store would refuse it as malformed).
      const known = McpServerName.safeParse(name).success && (await deps.registry().remove(name))
      if (!known) throw new GatewayError('not_found', `no MCP server ${name.slice(0, 100)}`)
      await deps.registry().changed()
    },
  })
}
