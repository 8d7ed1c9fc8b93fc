import { generateKeyPairSync, randomUUID } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type AgentCard,
  AgentCard as AgentCardJson,
  formatSSEEvent,
  generateAgentCardSignature,
  type Message,
  type Part,
  Role,
  TaskState,
} from '@a2a-js/sdk'
import {
  AgentEvent,
  type AgentExecutor,
  DefaultRequestHandler,
  InMemoryTaskStore,
  JsonRpcTransportHandler,
  ServerCallContext,
} from '@a2a-js/sdk/server'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { exportJWK } from 'jose'

/**
 * An external A2A agent as a team would run it: the official `@a2a-js/sdk` server (`DefaultRequestHandler` with
 * an `AgentExecutor`, its `JsonRpcTransportHandler`) served by Hono on a local port. Its card is at
 * `/.well-known/agent-card.json`, JSON-RPC at `/rpc`, and the public key of a signed card at `/jwks.json`.
 *
 * What it does with a message (its first part): text `stream:N` answers a task with N artifact updates
 * (`chunk 1` … `chunk N`) and completes; text `hang` works until the server dies; text `fail` fails the task;
 * anything else is echoed in a message `{ echoed, by }` (a data part).
 */
export interface ExternalAgentOptions {
  /** The card's name (and the `by` of each echo). */
  name: string
  /** Skill ids on the card; default `['echo', 'summarize text']`. */
  skills?: string[]
  /** Sign the card with an Ed25519 key published at `/jwks.json`; `tampered` changes the card after signing. */
  signature?: 'valid' | 'tampered'
}

export interface ExternalAgent {
  /** The base URL (the card is under it at `/.well-known/agent-card.json`). */
  url: string
  cardUrl: string
  /** Headers of every request it received, in order (card fetches and calls). */
  requests: Array<{ path: string; headers: Record<string, string> }>
  /** Calls (`SendMessage`, `SendStreamingMessage`) it received. */
  calls: number
  /** The JSON-RPC method of every call, in order. */
  methods: string[]
  /** Resolves once a `hang` message is being worked on. */
  hanging: () => Promise<void>
  /** Kills the server: open connections are cut, new ones refused. */
  kill(): Promise<void>
  /** Serves again on the same port after `kill`. */
  revive(): Promise<void>
}

function textOf(message: Message): string | undefined {
  const content = message.parts[0]?.content
  return content?.$case === 'text' ? content.value : undefined
}

function dataPart(value: unknown): Part {
  return { content: { $case: 'data', value }, mediaType: 'application/json', filename: '', metadata: {} }
}

function textPart(value: string): Part {
  return { content: { $case: 'text', value }, mediaType: 'text/plain', filename: '', metadata: {} }
}

function executor(name: string, onHang: () => void): AgentExecutor {
  return {
    async execute(context, bus) {
      const message = context.userMessage
      const text = textOf(message)
      const { taskId, contextId } = context
      const status = (state: TaskState, parts: Part[] = []) =>
        AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: {
            state,
            message:
              parts.length === 0
                ? undefined
                : {
                    messageId: randomUUID(),
                    contextId,
                    taskId,
                    role: Role.ROLE_AGENT,
                    parts,
                    metadata: {},
                    extensions: [],
                    referenceTaskIds: [],
                  },
            timestamp: new Date().toISOString(),
          },
          metadata: {},
        })
      if (text?.startsWith('stream:') || text === 'hang' || text === 'fail') {
        bus.publish(
          AgentEvent.task({
            id: taskId,
            contextId,
            status: {
              state: TaskState.TASK_STATE_WORKING,
              message: undefined,
              timestamp: new Date().toISOString(),
            },
            artifacts: [],
            history: [message],
            metadata: {},
          }),
        )
        if (text === 'hang') {
          onHang()
          await new Promise(() => {})
        }
        if (text === 'fail') {
          bus.publish(status(TaskState.TASK_STATE_FAILED, [textPart('the external agent could not do it')]))
          bus.finished()
          return
        }
        const count = Number(text.slice('stream:'.length))
        for (let index = 1; index <= count; index++) {
          bus.publish(
            AgentEvent.artifactUpdate({
              taskId,
              contextId,
              artifact: {
                artifactId: 'out',
                name: 'out',
                description: '',
                parts: [textPart(`chunk ${index}`)],
                metadata: {},
                extensions: [],
              },
              append: index > 1,
              lastChunk: index === count,
              metadata: {},
            }),
          )
          await new Promise((resolve) => setImmediate(resolve))
        }
        bus.publish(status(TaskState.TASK_STATE_COMPLETED))
        bus.finished()
        return
      }
      const content = message.parts[0]?.content
      const echoed = content?.$case === 'data' ? content.value : (text ?? null)
      bus.publish(
        AgentEvent.message({
          messageId: randomUUID(),
          contextId,
          taskId: '',
          role: Role.ROLE_AGENT,
          parts: [dataPart({ echoed, by: name })],
          metadata: {},
          extensions: [],
          referenceTaskIds: [],
        }),
      )
      bus.finished()
    },
    async cancelTask() {},
  }
}

export async function startExternalAgent(options: ExternalAgentOptions): Promise<ExternalAgent> {
  const app = new Hono()
  const server = createAdaptorServer({ fetch: app.fetch, hostname: '127.0.0.1' }) as Server
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  let hangingNow: () => void = () => {}
  const hanging = new Promise<void>((resolve) => {
    hangingNow = resolve
  })

  const card: AgentCard = {
    name: options.name,
    description: `External agent ${options.name}`,
    version: '1.0.0',
    provider: undefined,
    supportedInterfaces: [
      { url: `${url}/rpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' },
    ],
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain', 'application/json'],
    defaultOutputModes: ['application/json'],
    skills: (options.skills ?? ['echo', 'summarize text']).map((id) => ({
      id,
      name: `Skill ${id}`,
      description: `Does ${id}`,
      tags: ['external'],
      examples: [`please ${id}`],
      inputModes: ['text/plain'],
      outputModes: ['application/json'],
      securityRequirements: [],
    })),
    signatures: [],
  }
  let served: AgentCard = card
  let jwks: unknown = { keys: [] }
  if (options.signature !== undefined) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const kid = 'external-key-1'
    jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }] }
    served = await generateAgentCardSignature(privateKey, {
      alg: 'EdDSA',
      typ: 'JOSE',
      kid,
      jku: `${url}/jwks.json`,
    })(card)
    if (options.signature === 'tampered') served = { ...served, description: 'changed after signing' }
  }

  const handler = new DefaultRequestHandler(
    card,
    new InMemoryTaskStore(),
    executor(options.name, () => hangingNow()),
  )
  const transport = new JsonRpcTransportHandler(handler)
  const agent: ExternalAgent = {
    url,
    cardUrl: `${url}/.well-known/agent-card.json`,
    requests: [],
    calls: 0,
    methods: [],
    hanging: () => hanging,
    async kill() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
    async revive() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    },
  }

  app.use('*', async (c, next) => {
    agent.requests.push({ path: c.req.path, headers: Object.fromEntries(c.req.raw.headers) })
    await next()
  })
  app.get('/.well-known/agent-card.json', (c) => c.json(AgentCardJson.toJSON(served) as object))
  app.get('/jwks.json', (c) => c.json(jwks as object))
  app.post('/rpc', async (c) => {
    agent.calls += 1
    const rpc = (await c.req.json()) as { method?: string }
    agent.methods.push(String(rpc.method))
    const answer = await transport.handle(rpc, new ServerCallContext())
    if (!(Symbol.asyncIterator in answer)) return c.json(answer)
    const events = answer as AsyncGenerator<unknown>
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await events.next()
        if (next.done) controller.close()
        else controller.enqueue(encoder.encode(formatSSEEvent(next.value)))
      },
      async cancel() {
        await events.return(undefined)
      },
    })
    return new Response(body, {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    })
  })
  return agent
}
