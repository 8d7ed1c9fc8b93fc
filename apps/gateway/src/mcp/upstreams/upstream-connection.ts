import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  type CallToolResult,
  ErrorCode,
  McpError,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js'
import type { UpstreamCredentials } from '@parley/protocol'
import { credentialHeaders } from '../../upstreams/upstream-credentials.js'

/** One open client session with an upstream MCP server (the SDK's `Client` over Streamable HTTP). */
export interface UpstreamConnection {
  /** Every tool, all pages. */
  listTools(): Promise<Tool[]>
  callTool(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult>
  close(): Promise<void>
}

export interface ConnectOptions {
  url: string
  credentials: UpstreamCredentials | undefined
  /** Bounds the connection and each listing request. */
  timeoutMs: number
  /** The server said `notifications/tools/list_changed`. */
  onToolsChanged: () => void
  /** The gateway's version, told to the server as the client's. */
  clientVersion: string
}

/** A server with more pages than this is not listed further (a cursor loop). */
const MAX_TOOL_PAGES = 50
/** The gateway's request deadline aborts a call first (through the signal); this only backs it. */
const CALL_TIMEOUT_MS = 3_600_000

export async function connectUpstream(options: ConnectOptions): Promise<UpstreamConnection> {
  const client = new Client({ name: 'parley-gateway', version: options.clientVersion })
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => options.onToolsChanged())
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: { headers: credentialHeaders(options.credentials) },
    // A server that drops the notification stream is seen at the next listing; no retries in the background.
    reconnectionOptions: {
      maxRetries: 0,
      initialReconnectionDelay: 1_000,
      maxReconnectionDelay: 1_000,
      reconnectionDelayGrowFactor: 1,
    },
  })
  try {
    await client.connect(transport, { timeout: options.timeoutMs })
  } catch (error) {
    await client.close().catch(() => undefined)
    throw error
  }
  return {
    async listTools() {
      const tools: Tool[] = []
      let cursor: string | undefined
      for (let page = 0; page < MAX_TOOL_PAGES; page += 1) {
        const listed = await client.listTools(cursor === undefined ? {} : { cursor }, {
          timeout: options.timeoutMs,
        })
        tools.push(...listed.tools)
        cursor = listed.nextCursor
        if (cursor === undefined) break
      }
      return tools
    },
    async callTool(name, args, signal) {
      return (await client.callTool({ name, arguments: args }, undefined, {
        signal,
        timeout: CALL_TIMEOUT_MS,
      })) as CallToolResult
    },
    close: () => client.close(),
  }
}

/**
 * Whether the server answered with a JSON-RPC error (the upstream is there and refused this call), as opposed
 * to the connection failing (refused, reset, HTTP error status, lost session, timeout).
 */
export function isServerRefusal(error: unknown): error is McpError {
  return (
    error instanceof McpError &&
    error.code !== ErrorCode.ConnectionClosed &&
    error.code !== ErrorCode.RequestTimeout
  )
}

/** A short, single-line reason for health and logs. */
export function failureReason(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error)
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined
  if (cause !== undefined && cause !== message) message = `${message}: ${cause}`
  return message.replace(/\s+/g, ' ').trim().slice(0, 500) || 'unknown error'
}
