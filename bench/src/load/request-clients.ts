import { randomUUID } from 'node:crypto'
import { Role, TaskState } from '@a2a-js/sdk'
import { ClientFactory, JsonRpcTransportFactory } from '@a2a-js/sdk/client'
import type { BenchPayload } from '../ipc.js'
import type { TargetName } from '../options.js'
import {
  answerEnginePing,
  attach,
  attachParley,
  type BenchConnection,
  closer,
  errorSeq,
  isRecord,
  onSocketIoAcks,
  openWsBaseline,
  parleyHandshake,
  parseJson,
  sendFrame,
  socketIoHandshake,
} from './clients.js'

/**
 * The request scenario's wire clients, on the same `ws` library and with the same per-message work as the
 * fan-out clients (one message event, one `JSON.parse`, one small `JSON.stringify` to answer): an agent
 * answers every request at once with a small reply, a caller sends requests and matches the answers by id.
 */
export interface RequestClient {
  agent(options: AgentConnectOptions, handlers: AgentHandlers): Promise<BenchConnection>
  caller(options: CallerConnectOptions, handlers: CallerHandlers): Promise<CallerConnection>
}

export interface AgentConnectOptions {
  baseUrl: string
  /** Parley: the agent id (one agent per connection), also its client id. */
  agentId: string
  capability: string
  timeoutMs: number
}

export interface CallerConnectOptions {
  baseUrl: string
  /** A2A callers: the URL `createFromUrl` finds the agent card under (Parley's A2A face, or the baseline). */
  a2aUrl?: string
  clientId: string
  /** Parley: requests go to `{ capability }`, so the gateway picks the agent. */
  capability: string
  timeoutMs: number
}

export interface AgentHandlers {
  /** A request arrived and has been answered. */
  onAnswered(): void
  /** The server closed (or the network dropped) the connection. */
  onClose(code: number): void
}

export interface CallerHandlers {
  onReply(seq: number): void
  /** The server answered the request with an error (Parley: `no_route`, `rate_limited`, `timeout`, …). */
  onError(seq: number | undefined, code: string): void
  onClose(code: number): void
}

export interface CallerConnection extends BenchConnection {
  request(payload: BenchPayload): void
}

/** What every agent answers, whatever the request: small and constant, so the request's size dominates. */
export const AGENT_REPLY = { ok: true }

export function requestClientFor(target: TargetName): RequestClient {
  switch (target) {
    case 'parley':
      return parleyRequestClient
    case 'ws':
      return wsRequestClient
    case 'socketio':
      return socketIoRequestClient
    case 'a2a':
      return a2aRequestClient
  }
}

// ---------------------------------------------------------------- Parley: request → request_incoming → respond → reply

const parleyRequestClient: RequestClient = {
  async agent(options, handlers) {
    const socket = await parleyHandshake(
      { baseUrl: options.baseUrl, clientId: options.agentId, timeoutMs: options.timeoutMs },
      {
        type: 'agent_register',
        id: 'register',
        agentId: options.agentId,
        capabilities: [options.capability],
      },
    )
    attachParley(
      socket,
      (frame) => {
        if (frame.type !== 'request_incoming' || typeof frame.correlationId !== 'string') return
        sendFrame(socket, { type: 'respond', correlationId: frame.correlationId, data: AGENT_REPLY })
        handlers.onAnswered()
      },
      handlers.onClose,
    )
    return closer(socket)
  },

  async caller(options, handlers) {
    const socket = await parleyHandshake(options, undefined)
    attachParley(
      socket,
      (frame) => {
        if (frame.type === 'reply') handlers.onReply(Number(frame.id))
        else if (frame.type === 'error') handlers.onError(errorSeq(frame), String(frame.code))
      },
      handlers.onClose,
    )
    const target = { capability: options.capability }
    return {
      ...closer(socket),
      request(payload) {
        sendFrame(socket, { type: 'request', id: String(payload.seq), target, data: payload })
      },
    }
  },
}

// ---------------------------------------------------------------- ws relay (see servers/ws-relay.ts)

const wsRequestClient: RequestClient = {
  async agent(options, handlers) {
    const socket = await openWsBaseline(options, 'register')
    attach(
      socket,
      (message) => {
        const frame = parseJson(message)
        if (!isRecord(frame) || frame.cid === undefined) return
        socket.send(JSON.stringify({ cid: frame.cid, data: AGENT_REPLY }))
        handlers.onAnswered()
      },
      handlers.onClose,
    )
    return closer(socket)
  },

  async caller(options, handlers) {
    const socket = await openWsBaseline(options, 'ready')
    attach(
      socket,
      (message) => {
        const frame = parseJson(message)
        if (!isRecord(frame)) return
        if (typeof frame.error === 'string') handlers.onError(Number(frame.id), frame.error)
        else handlers.onReply(Number(frame.id))
      },
      handlers.onClose,
    )
    return {
      ...closer(socket),
      request(payload) {
        socket.send(JSON.stringify({ id: payload.seq, data: payload }))
      },
    }
  },
}

// ---------------------------------------------------------------- Socket.IO relay with acks (see servers/socketio-relay.ts)

/** A server-to-client event with an ack id: `42<id>[event, …]`. */
const EVENT_WITH_ACK_PACKET = /^42(\d+)(\[.*)$/s

const socketIoRequestClient: RequestClient = {
  async agent(options, handlers) {
    const socket = await socketIoHandshake(options, ['register', { capability: options.capability }])
    const reply = JSON.stringify([AGENT_REPLY])
    attach(
      socket,
      (message) => {
        if (answerEnginePing(socket, message)) return
        const event = EVENT_WITH_ACK_PACKET.exec(message)
        if (!event) return
        // Parsed like every other target's request, although only the ack id is needed to answer.
        const body = parseJson(event[2] ?? '')
        if (!Array.isArray(body) || body[0] !== 'request') return
        socket.send(`43${event[1]}${reply}`)
        handlers.onAnswered()
      },
      handlers.onClose,
    )
    return closer(socket)
  },

  async caller(options, handlers) {
    const socket = await socketIoHandshake(options, undefined)
    attach(
      socket,
      onSocketIoAcks(socket, (id, first) => {
        if (isRecord(first) && typeof first.error === 'string') handlers.onError(id, first.error)
        else handlers.onReply(id)
      }),
      handlers.onClose,
    )
    return {
      ...closer(socket),
      request(payload) {
        socket.send(`42${payload.seq}${JSON.stringify(['request', payload])}`)
      },
    }
  },
}

// ---------------------------------------------------------------- A2A: @a2a-js/sdk client, SendMessage (JSON-RPC v1.0)

/**
 * A caller that is an `@a2a-js/sdk` client found through the agent card (`createFromUrl`), sending each request
 * as a blocking `SendMessage` whose one data part is the payload; the answer is the completed task. Its
 * agents are the target's own (Parley agent connections; the a2a baseline answers in its executor).
 */
export const a2aRequestClient: RequestClient = {
  agent() {
    return Promise.reject(
      new Error('the a2a baseline answers in its own executor: it has no agent connections'),
    )
  },

  async caller(options, handlers) {
    if (options.a2aUrl === undefined) throw new Error('an A2A caller needs the agent URL')
    const client = await new ClientFactory({ transports: [new JsonRpcTransportFactory()] }).createFromUrl(
      options.a2aUrl,
    )
    let open = true
    return {
      close() {
        open = false
      },
      request(payload) {
        client
          .sendMessage({
            tenant: '',
            message: {
              messageId: randomUUID(),
              contextId: '',
              taskId: '',
              role: Role.ROLE_USER,
              parts: [
                {
                  content: { $case: 'data', value: { ...payload } },
                  mediaType: '',
                  filename: '',
                  metadata: {},
                },
              ],
              metadata: {},
              extensions: [],
              referenceTaskIds: [],
            },
            configuration: undefined,
            metadata: {},
          })
          .then(
            (result) => {
              if (!open) return
              const state = 'status' in result ? result.status?.state : undefined
              // Anything but COMPLETED is the agent's or the server's failure.
              if (state === TaskState.TASK_STATE_COMPLETED) handlers.onReply(payload.seq)
              else handlers.onError(payload.seq, `task state ${String(state)}`)
            },
            (error: unknown) => {
              if (!open) return
              const code = (error as { code?: unknown }).code
              handlers.onError(payload.seq, code === undefined ? String(error) : String(code))
            },
          )
      },
    }
  },
}
