import { randomUUID } from 'node:crypto'
import { type Message, type Part, Role, type Task, TaskState } from '@a2a-js/sdk'
import type { Client } from '@a2a-js/sdk/client'
import {
  HostedAgentFailure,
  type HostedAgentHandlers,
  HostedAgentUnavailable,
} from '../../agents/hosted-agent.js'
import { dataParts, type JsonValue, messageData } from '../a2a-parts.js'
import { reasonOf } from './external-card.js'

/** The fetch to the upstream failed before an answer: the instance is unreachable (not an agent error). */
export class UpstreamUnreachable extends Error {
  override readonly name = 'UpstreamUnreachable'
}

/** Error codes of a connection that failed or broke (undici and node:net). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
])

/** Whether an error (or one of its causes) says the upstream could not be reached or hung up mid-answer. */
export function isNetworkFailure(error: unknown): boolean {
  let current: unknown = error
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (current instanceof UpstreamUnreachable) return true
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true
    // undici: a body cut by the peer ends with "terminated".
    if (current.name === 'TypeError' && /^(fetch failed|terminated)$/.test(current.message)) return true
    current = current.cause
  }
  return false
}

/** A fetch whose failures to reach the upstream are `UpstreamUnreachable` (an abort stays an abort). */
export function markingUnreachable(base: typeof fetch): typeof fetch {
  return async (input, init) => {
    try {
      return await base(input, init)
    } catch (error) {
      if (init?.signal?.aborted) throw error
      throw new UpstreamUnreachable(reasonOf(error), { cause: error })
    }
  }
}

/** Parley request data as an A2A user message: a string is a text part, other JSON a data part. */
export function userMessage(data: unknown): Message {
  return {
    messageId: randomUUID(),
    contextId: '',
    taskId: '',
    role: Role.ROLE_USER,
    parts: dataParts(data),
    metadata: {},
    extensions: [],
    referenceTaskIds: [],
  }
}

/** Parts as Parley data, as a Parley agent receives a message: one part as itself, several as an array. */
function partsData(parts: Part[]): JsonValue {
  return messageData({ parts } as unknown as Message)
}

function isTask(result: Message | Task): result is Task {
  return !('messageId' in result)
}

const FAILED_STATES = new Set([TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_REJECTED])
const WAITING_STATES = new Set([TaskState.TASK_STATE_INPUT_REQUIRED, TaskState.TASK_STATE_AUTH_REQUIRED])

function statusText(task: { status?: { message?: Message | undefined } | undefined }): string | undefined {
  const parts = task.status?.message?.parts ?? []
  const text = parts.flatMap((part) => (part.content?.$case === 'text' ? [part.content.value] : [])).join(' ')
  return text.length > 0 ? text : undefined
}

/** A task that ended without an answer is the agent's failure; one waiting for input cannot go on here. */
function checkTaskState(task: { id?: string; status?: Task['status'] }): void {
  const state = task.status?.state
  if (state === undefined) return
  if (FAILED_STATES.has(state)) {
    throw new HostedAgentFailure(
      'agent_failed',
      statusText(task) ?? `the external agent's task ended ${TaskState[state]}`,
    )
  }
  if (state === TaskState.TASK_STATE_CANCELED) {
    throw new HostedAgentFailure('canceled', statusText(task) ?? 'the external agent canceled the task')
  }
  if (WAITING_STATES.has(state)) {
    throw new HostedAgentFailure(
      'input_required',
      statusText(task) ?? 'the external agent asks for more input, which a Parley request cannot give',
    )
  }
}

/** The answer of a task: its artifacts' parts (one part as itself, several as an array). */
function taskData(task: Task): JsonValue {
  checkTaskState(task)
  return partsData(task.artifacts.flatMap((artifact) => artifact.parts))
}

export interface ExternalCallsOptions {
  /** The SDK client of this instance, from its latest card (its interface, the credentials in its fetch). */
  client: () => Client
  /** The instance could not be reached: it goes down (and comes back on a later successful card fetch). */
  unreachable: (reason: string) => void
}

/**
 * Serves a hosted instance of an external A2A agent with the official SDK client: a request is `sendMessage`
 * (blocking), a stream `sendMessageStream` whose messages, status messages and artifact updates with content are
 * the chunks. The caller's abort cancels the call (and the upstream task when one was named). A failure to reach
 * the upstream hands the call back (`HostedAgentUnavailable`): an idempotent request fails over.
 */
export function externalCalls(options: ExternalCallsOptions): HostedAgentHandlers {
  const send = { tenant: '', configuration: undefined, metadata: {} }

  function failure(error: unknown, signal: AbortSignal, taskId: string | undefined): unknown {
    if (signal.aborted) {
      if (taskId !== undefined)
        options
          .client()
          .cancelTask({ tenant: '', id: taskId, metadata: {} })
          .catch(() => {})
      return new HostedAgentFailure('aborted', 'the call was aborted')
    }
    if (error instanceof HostedAgentFailure) return error
    if (isNetworkFailure(error)) {
      const reason = reasonOf(error)
      options.unreachable(reason)
      return new HostedAgentUnavailable(`the external agent is unreachable: ${reason}`)
    }
    return new HostedAgentFailure(
      'agent_failed',
      `the external agent answered with an error: ${reasonOf(error)}`,
    )
  }

  return {
    async request(call) {
      try {
        const result = await options
          .client()
          .sendMessage({ ...send, message: userMessage(call.data) }, { signal: call.signal })
        return isTask(result) ? taskData(result) : partsData(result.parts)
      } catch (error) {
        throw failure(error, call.signal, undefined)
      }
    },

    async stream(call, emit) {
      let taskId: string | undefined
      try {
        for await (const event of options
          .client()
          .sendMessageStream({ ...send, message: userMessage(call.data) }, { signal: call.signal })) {
          const payload = event.payload
          switch (payload?.$case) {
            case 'message':
              await emit(partsData(payload.value.parts))
              break
            case 'task':
              taskId = payload.value.id
              for (const artifact of payload.value.artifacts) await emit(partsData(artifact.parts))
              checkTaskState(payload.value)
              break
            case 'artifactUpdate':
              taskId = payload.value.taskId
              if ((payload.value.artifact?.parts.length ?? 0) > 0) {
                await emit(partsData(payload.value.artifact?.parts ?? []))
              }
              break
            case 'statusUpdate': {
              taskId = payload.value.taskId
              checkTaskState(payload.value)
              const parts = payload.value.status?.message?.parts ?? []
              if (parts.length > 0) await emit(partsData(parts))
              break
            }
            default:
              break
          }
        }
        return undefined
      } catch (error) {
        throw failure(error, call.signal, taskId)
      }
    },
  }
}
