import type { AddMcpServerRequest, UpstreamCredentials } from '@parley/protocol'

/** A registered upstream MCP server, its credentials open (in memory only, never logged nor answered). */
export interface McpServerRecord {
  name: string
  url: string
  credentials: UpstreamCredentials | undefined
  /** Why its stored credentials cannot be used (they do not open with this node's key), if so. */
  credentialsProblem?: string
  /** Epoch ms. */
  createdAt: number
}

export type McpServersListener = (servers: McpServerRecord[]) => void | Promise<void>

/**
 * Where the registered MCP servers live, shared by every node (each node connects to every server). The manager
 * and the admin routes depend on this interface only.
 */
export interface McpServerRegistry {
  /** Oldest first. */
  list(): Promise<McpServerRecord[]>
  /** Throws `GatewayError('conflict')` when a server of that name exists. */
  add(request: AddMcpServerRequest, now: number): Promise<McpServerRecord>
  /** True when it existed. */
  remove(name: string): Promise<boolean>
  /** After `add` / `remove` on this node: the watchers of every node see it (this node's before it resolves). */
  changed(): Promise<void>
  /**
   * Calls `listener` with every registered server now and after each change, from any node; calls never
   * overlap. Returns the function that removes it.
   */
  watch(listener: McpServersListener): () => void
}
