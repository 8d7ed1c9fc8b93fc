import { randomUUID } from 'node:crypto'
import { type Message, Role, type SendMessageRequest, TaskState, TaskStatus } from '@a2a-js/sdk'
import {
  type Client,
  ClientFactory,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from '@a2a-js/sdk/client'
import type { TaskStore } from '@parley/stores'
import type { SdkFixture } from '../support/sdk-agents.js'

/**
 * A fetch that presents the gateway credential, as an A2A client configured for a bearer scheme does, and any
 * other `headers` (a `traceparent`, as an instrumented client sends).
 */
export function bearerFetch(token: string | undefined, headers: Record<string, string> = {}): typeof fetch {
  return (input, init) => {
    const sent = new Headers(init?.headers)
    if (token !== undefined) sent.set('authorization', `Bearer ${token}`)
    for (const [name, value] of Object.entries(headers)) sent.set(name, value)
    return fetch(input, { ...init, headers: sent })
  }
}

/**
 * The official SDK client for one agent behind the gateway, found through its card (`createFromUrl`), over the
 * JSON-RPC binding unless `binding` says HTTP+JSON, sending its requests with `fetchImpl`.
 */
export async function a2aClientFetching(
  gatewayUrl: string,
  agentId: string,
  fetchImpl: typeof fetch,
  binding: 'JSONRPC' | 'HTTP+JSON' = 'JSONRPC',
): Promise<Client> {
  const factory = new ClientFactory({
    transports: [
      binding === 'JSONRPC'
        ? new JsonRpcTransportFactory({ fetchImpl })
        : new RestTransportFactory({ fetchImpl }),
    ],
    preferredTransports: [binding],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
  })
  return factory.createFromUrl(`${gatewayUrl}/a2a/${agentId}/`)
}

/** The official SDK client (JSON-RPC) for one agent behind the gateway, with a bearer token when given. */
export async function a2aClient(gatewayUrl: string, agentId: string, token?: string): Promise<Client> {
  return a2aClientFetching(gatewayUrl, agentId, bearerFetch(token))
}

export function userText(text: string): Message {
  return {
    messageId: randomUUID(),
    contextId: '',
    taskId: '',
    role: Role.ROLE_USER,
    parts: [{ content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: {} }],
    metadata: {},
    extensions: [],
    referenceTaskIds: [],
  }
}

export function sendRequest(message: Message): SendMessageRequest {
  return { tenant: '', message, configuration: undefined, metadata: {} }
}

/** A raw JSON-RPC call, as `curl` would send it; no `A2A-Version` header unless given (a v0.3 caller). */
export async function rawRpc(
  gatewayUrl: string,
  agentId: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${gatewayUrl}/a2a/${agentId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** One parsed SSE event: its `id` (a task sequence number) and its JSON data. */
export interface SseEventWithId {
  id: number | undefined
  data: Record<string, unknown>
}

/**
 * Reads SSE events from a response body one at a time; `stop()` cuts the connection (as a dropped network
 * would) and `next()` resolves undefined at the end of the stream.
 */
export function sseReader(response: Response) {
  const body = response.body
  if (body === null) throw new Error('no SSE body')
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  return {
    async next(): Promise<SseEventWithId | undefined> {
      for (;;) {
        const end = buffered.indexOf('\n\n')
        if (end !== -1) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          let id: number | undefined
          let data = ''
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) id = Number(line.slice(4))
            else if (line.startsWith('data: ')) data += line.slice(6)
          }
          return { id, data: JSON.parse(data) as Record<string, unknown> }
        }
        const chunk = await reader.read()
        if (chunk.done) return undefined
        buffered += decoder.decode(chunk.value, { stream: true })
      }
    },
    stop: () => reader.cancel(),
  }
}

/**
 * Connects an agent whose request handler works until its abort signal fires (a long piece of work):
 * `handlerStarted` resolves when a request reached it, `sawAbort` with the signal's reason.
 */
export async function patientAgent(fixture: SdkFixture, agentId: string, capability: string) {
  let started: () => void = () => {}
  const handlerStarted = new Promise<void>((resolve) => {
    started = resolve
  })
  let aborted: (reason: unknown) => void = () => {}
  const sawAbort = new Promise<unknown>((resolve) => {
    aborted = resolve
  })
  const agent = fixture.agent({ agentId, capabilities: [capability] })
  agent.handle(
    (_data, context) =>
      new Promise((resolve) => {
        started()
        context.signal.addEventListener('abort', () => {
          aborted(context.signal.reason)
          resolve('too late')
        })
      }),
  )
  await agent.connect()
  return { handlerStarted, sawAbort }
}

/** A task as a node that died would leave it: WORKING, last changed a minute ago, run by `node`. */
export async function leftWorking(tasks: TaskStore, id: string, node: string): Promise<void> {
  await tasks.create({
    id,
    contextId: `ctx-${id}`,
    agentId: 'worker',
    owner: 'someone',
    state: 'working',
    status: TaskStatus.toJSON({
      state: TaskState.TASK_STATE_WORKING,
      message: undefined,
      timestamp: undefined,
    }),
    metadata: { parley: { agentId: 'worker', node } },
    now: Date.now() - 60_000,
  })
}
