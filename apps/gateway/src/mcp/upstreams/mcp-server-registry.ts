import type { AddMcpServerRequest, UpstreamCredentials } from '@parley/protocol'
import { GatewayError } from '../../errors.js'

/** A registered upstream MCP server, its credentials open (in memory only, never logged nor answered). */
export interface McpServerRecord {
  name: string
  url: string
  credentials: UpstreamCredentials | undefined
  /** Epoch ms. */
  createdAt: number
}

/**
 * Where the registered MCP servers live: shared by every node (each node connects to every server). The manager
 * and the admin routes depend on this interface only.
 */
export interface McpServerRegistry {
  /** Oldest first. */
  list(): Promise<McpServerRecord[]>
  /** Throws `GatewayError('conflict')` when a server of that name exists. */
  add(request: AddMcpServerRequest, now: number): Promise<McpServerRecord>
  /** True when it existed. */
  remove(name: string): Promise<boolean>
  /** Increases on every change: a node whose copy is older reads the list again. */
  version(): Promise<number>
}

/** A registry for one node that forgets on restart (tests, and gateways without a shared store). */
export function createMemoryMcpServerRegistry(): McpServerRegistry {
  const records = new Map<string, McpServerRecord>()
  let version = 0
  return {
    async list() {
      return [...records.values()].map((record) => structuredClone(record))
    },
    async add(request, now) {
      if (records.has(request.name)) {
        throw new GatewayError('conflict', `an MCP server named ${request.name} is already registered`)
      }
      const record: McpServerRecord = {
        name: request.name,
        url: request.url,
        credentials: request.credentials,
        createdAt: now,
      }
      records.set(record.name, record)
      version += 1
      return structuredClone(record)
    },
    async remove(name) {
      const existed = records.delete(name)
      if (existed) version += 1
      return existed
    },
    async version() {
      return version
    },
  }
}
