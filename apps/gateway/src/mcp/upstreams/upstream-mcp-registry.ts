import type { UpstreamRecord } from '@parley/stores'
import { UpstreamExistsError } from '@parley/stores'
import { GatewayError } from '../../errors.js'
import { SecretBoxError } from '../../security/secret-box.js'
import { openCredentials, sealCredentials } from '../../upstreams/upstream-credentials.js'
import type { Upstreams } from '../../upstreams/upstreams.js'
import type { McpServerRecord, McpServerRegistry } from './mcp-server-registry.js'

/** An MCP server as the upstream store keeps it, its credentials opened. */
function serverOf(upstreams: Upstreams, record: UpstreamRecord): McpServerRecord {
  const server: McpServerRecord = {
    name: record.id,
    url: record.urls[0] ?? '',
    credentials: undefined,
    createdAt: record.createdAt,
  }
  try {
    server.credentials = openCredentials(upstreams.box(), record)
  } catch (error) {
    if (!(error instanceof SecretBoxError)) throw error
    // Sealed with another key (`upstreams.secretKey` or the pairing secret changed): not used, shown as why.
    server.credentialsProblem =
      'its stored credentials do not open with this node’s key (upstreams.secretKey); register it again'
  }
  return server
}

/**
 * The MCP servers in the shared upstream store (kind `mcp`, id = name, one URL), credentials sealed with the
 * secret box (AES-256-GCM) at rest; changes reach every node through the upstream watch.
 */
export function upstreamMcpServerRegistry(upstreams: Upstreams): McpServerRegistry {
  return {
    async list() {
      return (await upstreams.store().list('mcp')).map((record) => serverOf(upstreams, record))
    },
    async add(request, now) {
      try {
        const record = await upstreams.store().create(
          {
            kind: 'mcp',
            id: request.name,
            urls: [request.url],
            credentials: sealCredentials(upstreams.box(), 'mcp', request.name, request.credentials),
          },
          now,
        )
        return serverOf(upstreams, record)
      } catch (error) {
        if (error instanceof UpstreamExistsError) {
          throw new GatewayError('conflict', `an MCP server named ${request.name} is already registered`)
        }
        throw error
      }
    },
    remove: (name) => upstreams.store().delete('mcp', name),
    changed: () => upstreams.watch.changed(),
    watch(listener) {
      return upstreams.watch.onChange('mcp', (records) =>
        listener(records.map((record) => serverOf(upstreams, record))),
      )
    },
  }
}
