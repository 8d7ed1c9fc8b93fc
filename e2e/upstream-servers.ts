import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type AgentCard,
  formatSSEEvent,
  type Message,
  type Part,
  Role,
  type SendMessageRequest,
} from '@a2a-js/sdk'
import {
  type Client as A2aClient,
  ClientFactory,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
} from '@a2a-js/sdk/client'
import {
  AgentEvent,
  type AgentExecutor,
  DefaultRequestHandler,
  InMemoryTaskStore,
  JsonRpcTransportHandler,
  ServerCallContext,
} from '@a2a-js/sdk/server'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'

/*
 * Upstreams the e2e specs register on the dashboard: an external A2A agent served by the official SDK's
 * `DefaultRequestHandler` + an `AgentExecutor`, and an MCP server built with the SDK's `McpServer` over
 * Streamable HTTP (stateless). Both on a local port, over plain `node:http`, recording the Authorization header
 * of every request so a spec can check the credentials the gateway presents.
 */

export interface RunningUpstream {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string
  /** The Authorization header of each request, in order (`''` when absent). */
  readonly authorizations: string[]
  close(): Promise<void>
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: String(error) }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}` }
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return text === '' ? undefined : JSON.parse(text)
}

function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: {} }
}

/** The text parts of a message, joined with spaces. */
export function textOf(message: Message): string {
  return message.parts
    .map((part) =>
      part.content?.$case === 'text' ? part.content.value : JSON.stringify(part.content?.value),
    )
    .join(' ')
}

export interface A2aSkillSpec {
  id: string
  name: string
  description: string
}

export interface A2aUpstream extends RunningUpstream {
  /** `…/.well-known/agent-card.json`: what an operator registers. */
  readonly cardUrl: string
}

/**
 * An external A2A agent (v1.0 JSON-RPC) whose executor answers each message with one agent message,
 * `answer(text of the user's message)`.
 */
export async function startA2aUpstream(options: {
  name: string
  description: string
  skills: A2aSkillSpec[]
  answer: (text: string) => string
}): Promise<A2aUpstream> {
  const authorizations: string[] = []
  const executor: AgentExecutor = {
    async execute(context, bus) {
      bus.publish(
        AgentEvent.message({
          messageId: randomUUID(),
          contextId: context.contextId,
          taskId: '',
          role: Role.ROLE_AGENT,
          parts: [textPart(options.answer(textOf(context.userMessage)))],
          metadata: {},
          extensions: [],
          referenceTaskIds: [],
        }),
      )
      bus.finished()
    },
    async cancelTask() {},
  }
  let card: AgentCard | undefined
  let handler: JsonRpcTransportHandler | undefined
  const { server, url } = await listen(async (req, res) => {
    authorizations.push(req.headers.authorization ?? '')
    if (req.method === 'GET' && req.url?.startsWith('/.well-known/agent-card.json')) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' })
      res.end(JSON.stringify(card))
      return
    }
    if (req.method !== 'POST' || handler === undefined) {
      res.writeHead(404).end()
      return
    }
    const body = (await readBody(req)) as Record<string, unknown>
    const answer = await handler.handle(body, new ServerCallContext())
    if (typeof (answer as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(answer))
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    for await (const event of answer as AsyncIterable<unknown>) res.write(formatSSEEvent(event))
    res.end()
  })
  card = {
    name: options.name,
    description: options.description,
    version: '1.0.0',
    provider: undefined,
    supportedInterfaces: [{ url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
    capabilities: { streaming: true, pushNotifications: false, extensions: [] },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: options.skills.map((skill) => ({
      ...skill,
      tags: [],
      examples: [],
      inputModes: [],
      outputModes: [],
      securityRequirements: [],
    })),
    signatures: [],
  }
  handler = new JsonRpcTransportHandler(new DefaultRequestHandler(card, new InMemoryTaskStore(), executor))
  return {
    url,
    cardUrl: `${url}/.well-known/agent-card.json`,
    authorizations,
    close: () => closeServer(server),
  }
}

/** The official A2A client for one agent behind the gateway, found through its card, with a bearer token. */
export async function gatewayA2aClient(
  gatewayUrl: string,
  agentId: string,
  token: string,
): Promise<A2aClient> {
  const fetchImpl: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers)
    headers.set('authorization', `Bearer ${token}`)
    return fetch(input, { ...init, headers })
  }
  const factory = new ClientFactory({
    transports: [new JsonRpcTransportFactory({ fetchImpl })],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
  })
  return factory.createFromUrl(`${gatewayUrl}/a2a/${agentId}/`)
}

/** A `SendMessage` request with one text part. */
export function textMessage(text: string): SendMessageRequest {
  return {
    tenant: '',
    message: {
      messageId: randomUUID(),
      contextId: '',
      taskId: '',
      role: Role.ROLE_USER,
      parts: [textPart(text)],
      metadata: {},
      extensions: [],
      referenceTaskIds: [],
    },
    configuration: undefined,
    metadata: {},
  }
}

export interface McpToolSpec {
  name: string
  description: string
}

export interface McpUpstream extends RunningUpstream {
  /** The Streamable HTTP endpoint, `…/mcp`: what an operator registers. */
  readonly mcpUrl: string
}

/** An MCP server (stateless Streamable HTTP): each tool answers with its name and arguments as text. */
export async function startMcpUpstream(tools: McpToolSpec[]): Promise<McpUpstream> {
  const authorizations: string[] = []
  const { server, url } = await listen(async (req, res) => {
    authorizations.push(req.headers.authorization ?? '')
    if (!req.url?.startsWith('/mcp') || req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null }),
      )
      return
    }
    const mcp = new McpServer({ name: 'e2e-upstream', version: '1.0.0' })
    for (const tool of tools) {
      mcp.registerTool(tool.name, { description: tool.description }, async () => ({
        content: [{ type: 'text', text: `${tool.name}: done` }],
      }))
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => {
      void transport.close()
      void mcp.close()
    })
    await mcp.connect(transport)
    await transport.handleRequest(req, res, await readBody(req))
  })
  return { url, mcpUrl: `${url}/mcp`, authorizations, close: () => closeServer(server) }
}
