import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { Hono } from 'hono'

/**
 * An upstream MCP server for tests: the SDK's `McpServer` served over Streamable HTTP on a local port by Hono.
 * Stateless by default (a fresh server and transport per request, no session id), or with sessions so the
 * server can tell a connected client `notifications/tools/list_changed`. It records the headers of every request
 * it gets, and can be stopped and started again on the same port.
 */
export interface TestUpstream {
  readonly url: string
  readonly port: number
  /** Headers of each request, in order (lower-case names). */
  readonly seenHeaders: Headers[]
  /** The servers of open sessions (stateful mode only). */
  readonly sessions: Map<string, McpServer>
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
}

export interface TestUpstreamOptions {
  /** Adds the tools to each new server. */
  tools: (server: McpServer) => void
  stateful?: boolean
  port?: number
}

export async function startTestUpstream(options: TestUpstreamOptions): Promise<TestUpstream> {
  const seenHeaders: Headers[] = []
  const sessions = new Map<string, McpServer>()
  const transports = new Map<string, WebStandardStreamableHTTPServerTransport>()

  const newServer = () => {
    const server = new McpServer({ name: 'test-upstream', version: '1.0.0' })
    options.tools(server)
    return server
  }

  const app = new Hono()
  app.all('/mcp', async (c) => {
    seenHeaders.push(new Headers(c.req.raw.headers))
    if (options.stateful !== true) {
      if (c.req.method !== 'POST') return c.body(null, 405)
      const server = newServer()
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined })
      await server.connect(transport)
      return transport.handleRequest(c.req.raw)
    }
    const sessionId = c.req.header('mcp-session-id')
    const known = sessionId === undefined ? undefined : transports.get(sessionId)
    if (known !== undefined) return known.handleRequest(c.req.raw)
    if (sessionId !== undefined)
      return c.json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }, 404)
    const server = newServer()
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        transports.set(id, transport)
        sessions.set(id, server)
      },
    })
    await server.connect(transport)
    return transport.handleRequest(c.req.raw)
  })

  let port = options.port ?? 0
  let server: ServerType | undefined

  async function start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const created = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info: AddressInfo) => {
        port = info.port
        resolve()
      })
      created.once('error', reject)
      server = created
    })
  }

  await start()
  return {
    get url() {
      return `http://127.0.0.1:${port}/mcp`
    },
    get port() {
      return port
    },
    seenHeaders,
    sessions,
    start,
    async stop() {
      const current = server
      server = undefined
      for (const transport of transports.values()) await transport.close().catch(() => undefined)
      transports.clear()
      for (const session of sessions.values()) await session.close().catch(() => undefined)
      sessions.clear()
      if (current === undefined) return
      await new Promise<void>((resolve) => {
        current.close(() => resolve())
        if ('closeAllConnections' in current) current.closeAllConnections()
      })
    },
  }
}
