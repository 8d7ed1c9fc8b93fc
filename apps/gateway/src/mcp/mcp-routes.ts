import type { OAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/shared/auth.js'
import {
  ErrorCode,
  isJSONRPCNotification,
  isJSONRPCRequest,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js'
import { type ErrorBody, errorBody, type McpToolInfo } from '@parley/protocol'
import type { Context } from 'hono'
import { Gauge, type Registry } from 'prom-client'
import { mountAdminRoutes } from '../admin/admin-routes.js'
import type { Principal } from '../auth/auth-provider.js'
import type { Authenticate } from '../auth/authenticator.js'
import { mcpScopeAllows } from '../auth/scopes.js'
import type { GatewayConfig } from '../config.js'
import { httpAuthRequest, refusedResponse } from '../http/bearer-auth.js'
import type { ClientAddressResolver } from '../http/client-address.js'
import type { GatewayApp, GatewayEnv } from '../http/create-app.js'
import { errorResponse } from '../http/error-envelope.js'
import { isOriginAllowed } from '../http/origin.js'
import { createMcpFace, type McpFaceDeps } from './mcp-face.js'
import { MCP_REFUSAL_CODES } from './mcp-results.js'
import { createMcpStats } from './mcp-stats.js'

export const MCP_PATH = '/mcp'
/** RFC 9728 path form: the well-known prefix, then the resource's path. */
export const MCP_RESOURCE_METADATA_PATH = `/.well-known/oauth-protected-resource${MCP_PATH}`
/** The scopes `/mcp` honours (docs/mcp.md); `mcp:*` and `*:*` grant both. */
export const MCP_SCOPES = ['mcp:list', 'mcp:call'] as const

export interface McpRoutesDeps extends Omit<McpFaceDeps, 'stats' | 'maxInFlightPerPrincipal'> {
  config: GatewayConfig
  /** Checks the bearer credential like a connection's (any role). */
  authenticate: Authenticate
  clientAddress: ClientAddressResolver
  /** The gateway's Prometheus registry, for `parley_mcp_tool_calls_total`. */
  metrics?: Registry
}

type McpScope = 'list' | 'call'

/**
 * A token without scopes is not limited by them (policies decide, as for its requests); a token that carries
 * scopes needs `mcp:list` for `tools/list` and `mcp:call` for `tools/call` (`mcp:*`, `*:*` grant both), and
 * one of them for anything else on `/mcp`.
 */
function mayUse(principal: Principal, what: McpScope | 'any'): boolean {
  if (principal.scopes.length === 0) return true
  if (what === 'any')
    return mcpScopeAllows(principal.scopes, 'list') || mcpScopeAllows(principal.scopes, 'call')
  return mcpScopeAllows(principal.scopes, what)
}

function jsonRpcError(
  status: number,
  code: number,
  body: ErrorBody,
  id: unknown = null,
  headers = {},
): Response {
  return new Response(
    JSON.stringify({ jsonrpc: '2.0', id, error: { code, message: body.message, data: body } }),
    { status, headers: { 'content-type': 'application/json', ...headers } },
  )
}

/** The scope a message needs beyond `any`: `tools/list` and `tools/call`. */
function neededScope(message: JSONRPCMessage): McpScope | undefined {
  if (!isJSONRPCRequest(message)) return undefined
  if (message.method === 'tools/list') return 'list'
  if (message.method === 'tools/call') return 'call'
  return undefined
}

/**
 * The MCP face: `POST /mcp` (JSON-RPC over Streamable HTTP, stateless), `GET /mcp` (the standalone SSE stream
 * that carries `notifications/tools/list_changed`), its RFC 9728 protected resource metadata, and
 * `GET /api/admin/mcp/tools` (the admin "view as" listing with this node's per-tool counts). See docs/mcp.md.
 */
export function registerMcpRoutes(app: GatewayApp, deps: McpRoutesDeps) {
  const { config, logger } = deps
  const stats = createMcpStats(deps.metrics)
  const face = createMcpFace({
    ...deps,
    stats,
    maxInFlightPerPrincipal: config.agents.maxInFlightPerConnection,
  })
  /** The gateway's public base URL: `pairing.publicUrl` (PARLEY_PUBLIC_URL), else the request's origin. */
  const baseUrl = (c: Context<GatewayEnv>) =>
    (config.pairing.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '')
  const metadataUrl = (c: Context<GatewayEnv>) => `${baseUrl(c)}${MCP_RESOURCE_METADATA_PATH}`

  /** The open GET streams: how to close each, and the tool list it was last told about. */
  const listeners = new Map<() => void, { close: () => void; tools: string }>()
  let watcher: NodeJS.Timeout | undefined
  const currentTools = async () => (await face.allToolNames()).join('\n')
  /**
   * While GET streams are open, compares the tool list every `mcp.listChangedInterval` seconds (cluster-wide:
   * the directory holds every node's agents) and tells each stream whose list changed.
   */
  function watch(): void {
    if (watcher !== undefined) return
    watcher = setInterval(() => {
      currentTools()
        .then((tools) => {
          for (const [notify, listener] of listeners) {
            if (listener.tools === tools) continue
            listener.tools = tools
            notify()
          }
        })
        .catch((error: unknown) => logger.debug({ err: error }, 'MCP tool list check failed'))
    }, config.mcp.listChangedInterval * 1000)
    watcher.unref()
  }
  async function listen(notify: () => void, close: () => void): Promise<() => void> {
    listeners.set(notify, { close, tools: await currentTools() })
    watch()
    return () => {
      listeners.delete(notify)
      if (listeners.size > 0 || watcher === undefined) return
      clearInterval(watcher)
      watcher = undefined
    }
  }
  if (deps.metrics !== undefined)
    new Gauge({
      name: 'parley_mcp_streams',
      help: 'Open GET /mcp streams (listening for notifications/tools/list_changed) on this node.',
      registers: [deps.metrics],
      collect() {
        this.set(listeners.size)
      },
    })

  /** The caller, or the answer refusing it: a browser origin not allowed, no valid credential, no MCP scope. */
  async function principalOf(c: Context<GatewayEnv>): Promise<Principal | Response> {
    const origin = c.req.header('origin')
    if (origin !== undefined && !isOriginAllowed(origin, config.allowedOrigins)) {
      logger.warn({ origin }, 'refused an MCP request from a browser origin that is not allowed')
      return jsonRpcError(
        403,
        MCP_REFUSAL_CODES.denied,
        errorBody('forbidden', `origin ${origin} is not allowed`),
      )
    }
    const outcome = await deps.authenticate(httpAuthRequest(c, deps.clientAddress), { surface: 'mcp' })
    if (!outcome.ok) {
      if (outcome.code !== 'unauthorized') return refusedResponse(c, outcome, 'parley')
      // MCP clients find the authorization server through the protected resource metadata (RFC 9728).
      c.header('WWW-Authenticate', `Bearer realm="parley", resource_metadata="${metadataUrl(c)}"`)
      return errorResponse(c, 'unauthorized', outcome.message)
    }
    if (!mayUse(outcome.principal, 'any')) {
      face.recordRefusal(outcome.principal, `${c.req.method} /mcp forbidden scope=mcp:list|mcp:call`)
      return insufficientScope(c, 'any', null)
    }
    return outcome.principal
  }

  function insufficientScope(c: Context<GatewayEnv>, what: McpScope | 'any', id: unknown): Response {
    const scope = what === 'any' ? MCP_SCOPES.join(' ') : `mcp:${what}`
    return jsonRpcError(
      403,
      MCP_REFUSAL_CODES.denied,
      errorBody('forbidden', `this credential's scopes do not include ${scope}`),
      id,
      {
        'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}", resource_metadata="${metadataUrl(c)}"`,
      },
    )
  }

  const resourceMetadata = (c: Context<GatewayEnv>) => {
    const document: OAuthProtectedResourceMetadata = {
      resource: `${baseUrl(c)}${MCP_PATH}`,
      authorization_servers: config.jwt.issuer === undefined ? [] : [config.jwt.issuer],
      scopes_supported: [...MCP_SCOPES],
      bearer_methods_supported: ['header'],
      resource_name: 'Parley MCP gateway',
    }
    c.header('Cache-Control', 'public, max-age=300')
    return c.json(document)
  }
  app.get(MCP_RESOURCE_METADATA_PATH, resourceMetadata)

  app.post(MCP_PATH, async (c) => {
    const principal = await principalOf(c)
    if (principal instanceof Response) return principal
    let body: unknown
    try {
      // The body is bounded already: `http.maxBodySize` (413 payload_too_large before this handler runs).
      body = JSON.parse(await c.req.text())
    } catch {
      return jsonRpcError(400, ErrorCode.ParseError, errorBody('invalid_json', 'the body is not valid JSON'))
    }
    const items: unknown[] = Array.isArray(body) ? body : [body]
    if (
      items.length === 0 ||
      items.some((item) => typeof item !== 'object' || item === null || Array.isArray(item))
    ) {
      return jsonRpcError(
        400,
        ErrorCode.InvalidRequest,
        errorBody('invalid_frame', 'the body is not a JSON-RPC message (an object) or a batch of them'),
      )
    }
    const messages = items as JSONRPCMessage[]
    for (const message of messages) {
      const needed = neededScope(message)
      if (needed !== undefined && !mayUse(principal, needed)) {
        face.recordRefusal(principal, `tools/${needed} forbidden scope=mcp:${needed}`)
        return insufficientScope(c, needed, (message as { id?: unknown }).id ?? null)
      }
    }
    for (const message of messages) {
      if (!isJSONRPCNotification(message) || message.method !== 'notifications/cancelled') continue
      const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId
      if (typeof requestId === 'string' || typeof requestId === 'number') face.cancel(principal, requestId)
    }
    // A call with a progress token is answered over SSE (its progress notifications go first); all else as JSON.
    const streaming = messages.some(
      (message) =>
        isJSONRPCRequest(message) &&
        message.method === 'tools/call' &&
        (message.params?._meta as { progressToken?: unknown } | undefined)?.progressToken !== undefined,
    )
    return face.answer(c.req.raw, principal, body, streaming)
  })

  app.get(MCP_PATH, async (c) => {
    const principal = await principalOf(c)
    if (principal instanceof Response) return principal
    return face.listen(c.req.raw, principal, listen)
  })

  app.delete(MCP_PATH, async (c) => {
    const principal = await principalOf(c)
    if (principal instanceof Response) return principal
    // Stateless: there is no session to end.
    return jsonRpcError(
      405,
      ErrorCode.InvalidRequest,
      errorBody('bad_request', 'this MCP endpoint is stateless: there is no session to delete'),
      null,
      { Allow: 'GET, POST' },
    )
  })

  mountAdminRoutes(app, {
    mcpTools: async (_c, request) => {
      const { as, role } = request.query()
      const tools = await face.toolsViewedAs(
        as === undefined ? undefined : { principal: as, ...(role === undefined ? {} : { role }) },
      )
      return {
        as: as ?? null,
        tools: tools.map(
          (tool): McpToolInfo => ({
            name: tool.name,
            source: tool.source,
            origin: tool.origin,
            owner: tool.owner,
            description: tool.info?.description ?? null,
            ...stats.countsOf(tool.name),
          }),
        ),
      }
    },
  })

  return {
    /** This node's call counts of a tool (for the upstream servers' listing). */
    countsOf: stats.countsOf,
    /** Closes the open GET streams and ends their watcher (gateway stop). */
    stop(): void {
      for (const listener of [...listeners.values()]) listener.close()
      if (watcher !== undefined) clearInterval(watcher)
      watcher = undefined
    },
  }
}
