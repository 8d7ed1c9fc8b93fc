import type { McpServerInfo, UpstreamHealth } from '@parley/protocol'
import type { Logger } from 'pino'
import type { AgentLayer } from '../../agents/agent-layer.js'
import {
  type HostedAgent,
  HostedAgentFailure,
  type HostedAgentHandlers,
  HostedAgentUnavailable,
  hostAgent,
} from '../../agents/hosted-agent.js'
import type { GatewayConfig } from '../../config.js'
import type { McpServerRecord, McpServerRegistry } from './mcp-server-registry.js'
import {
  type ConnectOptions,
  connectUpstream,
  failureReason,
  isServerRefusal,
  type UpstreamConnection,
} from './upstream-connection.js'
import { type UpstreamTool, upstreamTools } from './upstream-tools.js'

/** Tools published per server at most; the rest are named in its health. */
const MAX_TOOLS = 500

export interface McpUpstreamsDeps {
  /** The registered servers: the manager follows its `watch`. */
  registry: () => McpServerRegistry
  agents: Pick<AgentLayer, 'registerHosted' | 'unregisterHosted' | 'answerFrom'>
  config: GatewayConfig['mcpUpstreams']
  clientVersion: string
  logger: Logger
  /** Opens a client session with a server; the SDK's Streamable HTTP client by default. */
  connect?: (options: ConnectOptions) => Promise<UpstreamConnection>
  now?: () => number
  random?: () => number
}

/** One tool hosted as its own instance, and the text of what it was hosted with. */
interface HostedTool {
  agent: HostedAgent
  signature: string
}

interface ToolCounts {
  calls: number
  errors: number
}

/** What this node knows of one registered server. */
interface ServerEntry {
  record: McpServerRecord
  /** The record as text, to tell a changed registration from the same one. */
  signature: string
  health: UpstreamHealth
  /** The published tools, by capability. */
  tools: Map<string, UpstreamTool>
  connection: UpstreamConnection | undefined
  /** The hosted instances, by capability. */
  hosted: Map<string, HostedTool>
  failures: number
  timer: NodeJS.Timeout | undefined
  running: Promise<void> | undefined
  /** A refresh was asked for while one ran: run again after it. */
  again: boolean
  removed: boolean
  counts: Map<string, ToolCounts>
  firstAttempt: Promise<void>
  attempted: () => void
}

export type McpUpstreams = ReturnType<typeof createMcpUpstreams>

/** The agent id the tools of `server` are hosted under. */
export function mcpServerAgentId(server: string): string {
  return `mcp.${server}`
}

/** Arguments of a tool call: a JSON object (none is an empty one). */
function toolArguments(data: unknown): Record<string, unknown> {
  if (data === null || data === undefined) return {}
  if (typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>
  throw new HostedAgentFailure('invalid_arguments', 'the arguments of an MCP tool call are a JSON object')
}

function recordSignature(record: McpServerRecord): string {
  return JSON.stringify([record.url, record.credentials ?? null, record.credentialsProblem ?? null])
}

/**
 * Upstream MCP servers as agents. Every node connects to every registered server with the SDK's client, lists
 * its tools (all pages) and hosts them as one in-process agent `mcp.<server>` (principal `mcp:<server>`, kind
 * `mcp`) whose capabilities are `mcp:{server}__{tool}`; a call to one is a `tools/call` on the server, its
 * `CallToolResult` the answer (an `isError: true` result is an answer too). Tools are listed again on the
 * server's `notifications/tools/list_changed`, every `refreshInterval`, and when a call finds the server gone.
 * A server that cannot be listed is down: its agent leaves the directory at once (its tools are no longer
 * listed nor routed to), and it is tried again with backoff until it answers, when its tools are hosted again.
 */
export function createMcpUpstreams(deps: McpUpstreamsDeps) {
  const { config, logger } = deps
  const now = deps.now ?? Date.now
  const random = deps.random ?? Math.random
  const connect = deps.connect ?? connectUpstream
  const refreshMs = Math.round(config.refreshInterval * 1000)
  const timeoutMs = Math.round(config.timeout * 1000)
  const entries = new Map<string, ServerEntry>()
  let unwatch: (() => void) | undefined
  let running = false

  function retryDelayMs(failures: number): number {
    const ceiling = Math.min(config.retryMax, config.retryInitial * 2 ** Math.max(0, failures - 1)) * 1000
    // Half fixed, half random: servers that failed together are not retried together.
    return Math.round(ceiling / 2 + (random() * ceiling) / 2)
  }

  function schedule(entry: ServerEntry, delayMs: number): void {
    clearTimeout(entry.timer)
    if (!running || entry.removed) return
    entry.timer = setTimeout(() => void refresh(entry), delayMs)
    entry.timer.unref()
  }

  function unhost(entry: ServerEntry): void {
    for (const hosted of entry.hosted.values()) hosted.agent.close()
    entry.hosted = new Map()
    entry.tools = new Map()
  }

  async function dropConnection(entry: ServerEntry): Promise<void> {
    const connection = entry.connection
    entry.connection = undefined
    await connection?.close().catch(() => undefined)
  }

  function countsOf(entry: ServerEntry, capability: string): ToolCounts {
    let counts = entry.counts.get(capability)
    if (counts === undefined) {
      counts = { calls: 0, errors: 0 }
      entry.counts.set(capability, counts)
    }
    return counts
  }

  function handlersFor(entry: ServerEntry): HostedAgentHandlers {
    const server = entry.record.name
    return {
      async request(call) {
        const tool = call.capability === undefined ? undefined : entry.tools.get(call.capability)
        if (tool === undefined) {
          throw new HostedAgentFailure(
            'unknown_tool',
            `call a tool of MCP server ${server} by its capability (mcp:${server}__<tool>)`,
          )
        }
        const args = toolArguments(call.data)
        const counts = countsOf(entry, tool.capability)
        counts.calls += 1
        const connection = entry.connection
        if (connection === undefined) {
          counts.errors += 1
          throw new HostedAgentUnavailable(`MCP server ${server} is not connected`)
        }
        try {
          const result = await connection.callTool(tool.toolName, args, call.signal)
          if (result.isError === true) counts.errors += 1
          return result
        } catch (error) {
          counts.errors += 1
          if (call.signal.aborted) throw error
          if (isServerRefusal(error)) {
            throw new HostedAgentFailure('mcp_error', `MCP server ${server}: ${failureReason(error)}`)
          }
          // The server may be gone: list again now (down, its tools leave; or a fresh session).
          void refresh(entry)
          throw new HostedAgentUnavailable(`MCP server ${server} is unreachable: ${failureReason(error)}`)
        }
      },
    }
  }

  /**
   * Hosts each tool as its own instance of the server's agent: a policy on a tool's capability then decides for
   * that tool alone (a policy target matches an instance by any of its capabilities). A tool whose description
   * changed is hosted anew before its old instance goes, so it stays reachable throughout.
   */
  function publish(entry: ServerEntry, tools: UpstreamTool[]): void {
    const server = entry.record.name
    const handlers = handlersFor(entry)
    const hosted = new Map<string, HostedTool>()
    const replaced: HostedAgent[] = []
    for (const tool of tools) {
      const signature = JSON.stringify([tool.toolName, tool.spec])
      const current = entry.hosted.get(tool.capability)
      if (current?.signature === signature) {
        hosted.set(tool.capability, current)
        continue
      }
      if (current !== undefined) replaced.push(current.agent)
      const agent = hostAgent(
        deps.agents,
        {
          agentId: mcpServerAgentId(server),
          principal: `mcp:${server}`,
          capabilities: [tool.spec],
          metadata: { mcpServer: server, mcpTool: tool.toolName },
          reach: { kind: 'mcp', url: entry.record.url },
        },
        handlers,
      )
      hosted.set(tool.capability, { agent, signature })
    }
    for (const [capability, current] of entry.hosted) {
      if (!hosted.has(capability)) replaced.push(current.agent)
    }
    entry.tools = new Map(tools.map((tool) => [tool.capability, tool]))
    entry.hosted = hosted
    for (const agent of replaced) agent.close()
  }

  async function listOnce(entry: ServerEntry) {
    if (entry.record.credentialsProblem !== undefined) throw new Error(entry.record.credentialsProblem)
    entry.connection ??= await connect({
      url: entry.record.url,
      credentials: entry.record.credentials,
      timeoutMs,
      clientVersion: deps.clientVersion,
      onToolsChanged: () => void refresh(entry),
    })
    return entry.connection.listTools()
  }

  async function attempt(entry: ServerEntry): Promise<void> {
    const server = entry.record.name
    try {
      let listed: Awaited<ReturnType<UpstreamConnection['listTools']>>
      try {
        listed = await listOnce(entry)
      } catch (error) {
        if (entry.connection === undefined) throw error
        // An open session may have gone stale (the server restarted): one more try on a new one.
        await dropConnection(entry)
        listed = await listOnce(entry)
      }
      // Removed (or the gateway stopped) while connecting: the session opened meanwhile is closed too.
      if (entry.removed) {
        await dropConnection(entry)
        return
      }
      const { tools, skipped } = upstreamTools(server, listed.slice(0, MAX_TOOLS))
      if (listed.length > MAX_TOOLS)
        skipped.push(`${listed.length - MAX_TOOLS} tools beyond the first ${MAX_TOOLS}`)
      publish(entry, tools)
      if (entry.health.state !== 'up') logger.info({ server, tools: tools.length }, 'MCP server is up')
      entry.health = {
        url: entry.record.url,
        state: 'up',
        lastFetchAt: new Date(now()).toISOString(),
        lastError: skipped.length === 0 ? null : `not published: ${skipped.join('; ')}`.slice(0, 1_000),
      }
      entry.failures = 0
      schedule(entry, refreshMs)
    } catch (error) {
      await dropConnection(entry)
      if (entry.removed) return
      unhost(entry)
      const reason = failureReason(error)
      if (entry.health.state !== 'down') logger.warn({ server, reason }, 'MCP server is down; retrying')
      entry.health = { ...entry.health, state: 'down', lastError: reason }
      entry.failures += 1
      schedule(entry, retryDelayMs(entry.failures))
    } finally {
      entry.attempted()
    }
  }

  /** Lists the server's tools now; a refresh asked for during one runs once more after it. */
  function refresh(entry: ServerEntry): Promise<void> {
    if (entry.removed || !running) return Promise.resolve()
    if (entry.running !== undefined) {
      entry.again = true
      return entry.running
    }
    clearTimeout(entry.timer)
    entry.running = (async () => {
      do {
        entry.again = false
        await attempt(entry)
      } while (entry.again && !entry.removed && running)
    })().finally(() => {
      entry.running = undefined
    })
    return entry.running
  }

  function addEntry(record: McpServerRecord): void {
    let attempted: () => void = () => undefined
    const firstAttempt = new Promise<void>((resolve) => {
      attempted = resolve
    })
    const entry: ServerEntry = {
      record,
      signature: recordSignature(record),
      health: { url: record.url, state: 'pending', lastFetchAt: null, lastError: null },
      tools: new Map(),
      connection: undefined,
      hosted: new Map(),
      failures: 0,
      timer: undefined,
      running: undefined,
      again: false,
      removed: false,
      counts: new Map(),
      firstAttempt,
      attempted,
    }
    entries.set(record.name, entry)
    void refresh(entry)
  }

  async function removeEntry(entry: ServerEntry): Promise<void> {
    entry.removed = true
    clearTimeout(entry.timer)
    entries.delete(entry.record.name)
    unhost(entry)
    entry.attempted()
    await dropConnection(entry)
  }

  /** Brings this node's servers in line with the registered ones. */
  async function apply(records: McpServerRecord[]): Promise<void> {
    if (!running) return
    const names = new Set(records.map((record) => record.name))
    for (const entry of [...entries.values()]) {
      if (!names.has(entry.record.name)) await removeEntry(entry)
    }
    for (const record of records) {
      const entry = entries.get(record.name)
      if (entry !== undefined && entry.signature === recordSignature(record)) continue
      // Registered again with another URL or credentials (removed and added elsewhere): start afresh.
      if (entry !== undefined) await removeEntry(entry)
      addEntry(record)
    }
  }

  function toolCounts(entry: ServerEntry, capability: string): ToolCounts {
    return entry.counts.get(capability) ?? { calls: 0, errors: 0 }
  }

  function infoOf(record: McpServerRecord): McpServerInfo {
    const entry = entries.get(record.name)
    const health: UpstreamHealth = entry?.health ?? {
      url: record.url,
      state: 'pending',
      lastFetchAt: null,
      lastError: null,
    }
    const tools = entry === undefined ? [] : [...entry.tools.values()]
    return {
      name: record.name,
      health: { ...health },
      tools: tools.map((tool) => ({
        name: tool.listedName,
        source: tool.toolName,
        origin: 'upstream' as const,
        owner: record.name,
        description: tool.description ?? null,
        ...toolCounts(entry as ServerEntry, tool.capability),
      })),
      credentials: record.credentials?.type ?? 'none',
      createdAt: new Date(record.createdAt).toISOString(),
    }
  }

  return {
    /** Connects to every registered server, and follows the registry from then on. */
    start(): void {
      if (running) return
      running = true
      unwatch = deps.registry().watch(apply)
    },

    async stop(): Promise<void> {
      running = false
      unwatch?.()
      unwatch = undefined
      await Promise.all([...entries.values()].map((entry) => removeEntry(entry)))
    },

    /** Waits (at most `timeoutMs`) for the first connection attempt to `name` on this node to end. */
    async settled(name: string, waitMs: number): Promise<void> {
      const entry = entries.get(name)
      if (entry === undefined) return
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        entry.firstAttempt,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, waitMs)
        }),
      ])
      clearTimeout(timer)
    },

    /** The servers as the admin API shows them: health and tools as this node last saw them. */
    info: infoOf,
  }
}
