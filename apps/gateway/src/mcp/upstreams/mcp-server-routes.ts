import { AddMcpServerRequest, type McpServerInfo, type McpServerList } from '@parley/protocol'
import { parseBody } from '../../admin/request-body.js'
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

  app.get('/api/admin/mcp/servers', async (c) => {
    const records = await deps.registry().list()
    const body: McpServerList = { servers: records.map((record) => deps.upstreams.info(record)) }
    return c.json(body)
  })

  app.post('/api/admin/mcp/servers', async (c) => {
    const request = parseBody(AddMcpServerRequest, await c.req.json().catch(() => undefined), 'MCP server')
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
    const body: McpServerInfo = deps.upstreams.info(record)
    return c.json(body, 201)
  })

  app.delete('/api/admin/mcp/servers/:name', async (c) => {
    const name = c.req.param('name')
    c.set('adminAction', `mcp server remove ${name}`)
    if (!(await deps.registry().remove(name))) throw new GatewayError('not_found', `no MCP server ${name}`)
    await deps.registry().changed()
    return c.body(null, 204)
  })
}
