/**
 * Baseline for the a2a scenario: an agent served by the official `@a2a-js/sdk` server alone, as an A2A agent
 * is served without a gateway: `DefaultRequestHandler` with the SDK's in-memory task store and an
 * `AgentExecutor` that answers every message at once, behind the SDK's `JsonRpcTransportHandler` on a plain
 * `node:http` server, with its card at `/.well-known/agent-card.json`. The executor publishes what Parley's
 * A2A face publishes for an answered request (the task WORKING, the answer as artifact `answer`, COMPLETED),
 * so both sides store and return the same task; no authentication, policies, routing or audit.
 */
import { createServer } from 'node:http'
import { AGENT_CARD_PATH, type AgentCard, AgentCard as AgentCardJson, TaskState } from '@a2a-js/sdk'
import {
  AgentEvent,
  type AgentExecutor,
  DefaultRequestHandler,
  InMemoryTaskStore,
  JsonRpcTransportHandler,
  ServerCallContext,
} from '@a2a-js/sdk/server'
import { healthHandler, portFromArgs } from './health.js'

const port = portFromArgs()
const baseUrl = `http://127.0.0.1:${port}`
/** What every agent of the bench answers (see load/request-clients.ts). */
const REPLY = { ok: true }

const card: AgentCard = {
  name: 'bench-a2a',
  description: 'Answers every message at once',
  version: '1.0.0',
  provider: undefined,
  supportedInterfaces: [{ url: baseUrl, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' }],
  capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
  securitySchemes: {},
  securityRequirements: [],
  defaultInputModes: ['application/json'],
  defaultOutputModes: ['application/json'],
  skills: [
    {
      id: 'echo',
      name: 'echo',
      description: 'Answers at once',
      tags: ['echo'],
      examples: [],
      inputModes: [],
      outputModes: [],
      securityRequirements: [],
    },
  ],
  signatures: [],
}

const executor: AgentExecutor = {
  async execute(requestContext, bus) {
    const { taskId, contextId, userMessage } = requestContext
    const at = () => new Date().toISOString()
    bus.publish(
      AgentEvent.task({
        id: taskId,
        contextId,
        status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: at() },
        artifacts: [],
        history: [userMessage],
        metadata: {},
      }),
    )
    bus.publish(
      AgentEvent.artifactUpdate({
        taskId,
        contextId,
        artifact: {
          artifactId: 'answer',
          name: 'answer',
          description: '',
          parts: [{ content: { $case: 'data', value: REPLY }, mediaType: '', filename: '', metadata: {} }],
          metadata: {},
          extensions: [],
        },
        append: false,
        lastChunk: true,
        metadata: {},
      }),
    )
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: { state: TaskState.TASK_STATE_COMPLETED, message: undefined, timestamp: at() },
        metadata: {},
      }),
    )
  },
  async cancelTask() {},
}

const transport = new JsonRpcTransportHandler(
  new DefaultRequestHandler(card, new InMemoryTaskStore(), executor),
)
const cardJson = JSON.stringify(AgentCardJson.toJSON(card))
const health = healthHandler(() => 0)

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === `/${AGENT_CARD_PATH}`) {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(cardJson)
    return
  }
  if (request.method !== 'POST' || request.url !== '/') {
    health(request, response)
    return
  }
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    void (async () => {
      let body: Record<string, unknown>
      try {
        body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>
      } catch {
        response.writeHead(400)
        response.end()
        return
      }
      const answer = await transport.handle(body, new ServerCallContext({ requestedVersion: '1.0' }))
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify(answer))
    })()
  })
})
server.keepAliveTimeout = 120_000
server.listen(port, '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
