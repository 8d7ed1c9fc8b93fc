import { TaskState } from '@a2a-js/sdk'
import {
  AgentEvent,
  type AgentExecutor,
  type ExecutionEventBus,
  type RequestContext,
  type ServerCallContext,
} from '@a2a-js/sdk/server'
import {
  A2A_CALL_ENDING_STATES,
  type A2aAgentTaskState,
  type ErrorBody,
  errorBody,
  type TraceContext,
} from '@parley/protocol'
import type { TaskPushConfigInput } from '@parley/stores'
import type { Logger } from 'pino'
import { type EntryAgentCalls, entryCaller, thrownErrorBody } from '../agents/entry-caller.js'
import type { Principal } from '../auth/auth-provider.js'
import { agentMessage, dataParts, messageData } from './a2a-parts.js'
import { TASK_STATE_OF, taskChunkMeaning } from './a2a-task-model.js'

/** What the A2A face needs of the agent layer: the same entry a WebSocket connection's frames take. */
export type A2aAgentCalls = EntryAgentCalls

/** One A2A call as the routes saw it, kept in the SDK's `ServerCallContext.state`. */
export interface A2aCall {
  agentId: string
  principal: Principal
  /** `SendStreamingMessage` / `message/stream`: the agent is reached with a Parley stream. */
  streaming: boolean
  /** The caller's accepted W3C trace context (`traceContextOfHeaders`): the agent is invoked in its trace. */
  trace: TraceContext
  /** Set when the gateway refused the call before the agent got it (policy, no route, limits). */
  refusal?: ErrorBody
  /** The task the message runs as, once the executor started it. */
  taskId?: string
  /** Push configs of a SendMessage's `configuration`, stored when its task is (the task store's first save). */
  pendingPushConfigs?: TaskPushConfigInput[]
}

const CALL_STATE_KEY = 'parley.a2a.call'

export function setA2aCall(context: ServerCallContext, call: A2aCall): void {
  context.state.set(CALL_STATE_KEY, call)
}

export function a2aCallOf(context: ServerCallContext): A2aCall | undefined {
  return context.state.get(CALL_STATE_KEY) as A2aCall | undefined
}

type Outcome =
  | { kind: 'answer'; data: unknown }
  | { kind: 'ended' }
  | { kind: 'failed'; error: ErrorBody }
  | { kind: 'canceled' }
  /** The agent set a state that ends the call (`{ a2a: { status } }`, see a2a-task-model.ts). */
  | { kind: 'state'; state: A2aAgentTaskState; message: string | undefined }

interface RunningTask {
  contextId: string
  /** The event bus of the call that runs it: a cancel from another node publishes CANCELED on it. */
  bus: ExecutionEventBus
  /** Stops the agent's work (a stream is aborted, a pending request dropped) and ends the task CANCELED. */
  cancel(): void
}

const CALL_ID = 'a2a'

/**
 * Turns A2A messages into Parley agent requests and streams through the agent layer, so they are routed,
 * balanced, failed over, timed out, access-checked and audited exactly like a WebSocket caller's. A request's
 * answer becomes the `answer` artifact; a stream's chunks become appends to the `stream` artifact, in order;
 * both end with a COMPLETED task. An agent that speaks A2A's task model (`{ a2a: { status | artifact } }` chunks
 * or answer, see a2a-task-model.ts) sets the task's states and artifacts itself: `input-required`,
 * `auth-required`, `completed` and `failed` end the call in that state; a later message with the task's id
 * runs as a new request / stream that the agent sees as `from.a2aTask` with `continued: true`. A refusal
 * before the agent got the message publishes nothing: the routes answer it as a JSON-RPC error (see
 * `a2a-errors.ts`).
 */
export function createA2aExecutor(options: {
  agents: A2aAgentCalls
  logger: Logger
  /** This gateway node: recorded on each task (`metadata.parley.node`) as the node that runs it. */
  nodeId: string
  /** Tasks one principal may have running at once (`agents.maxInFlightPerConnection`). */
  maxInFlightPerPrincipal: number
}) {
  const { agents, logger } = options
  const running = new Map<string, RunningTask>()
  const inFlight = new Map<string, number>()

  const executor: AgentExecutor = {
    async execute(requestContext, bus) {
      const call = a2aCallOf(requestContext.context)
      if (call === undefined) throw new Error('an A2A call reached the executor without its Parley context')
      const principal = call.principal.id
      const open = inFlight.get(principal) ?? 0
      if (open >= options.maxInFlightPerPrincipal) {
        // Refused before the agent got it: nothing is published, the routes answer the refusal.
        call.refusal = errorBody(
          'rate_limited',
          `${open} A2A tasks of ${principal} are running already (agents.maxInFlightPerConnection)`,
          1_000,
        )
        return
      }
      inFlight.set(principal, open + 1)
      try {
        await run(requestContext, bus, call)
      } finally {
        const left = (inFlight.get(principal) ?? 1) - 1
        if (left <= 0) inFlight.delete(principal)
        else inFlight.set(principal, left)
      }
    },

    async cancelTask(taskId: string, bus: ExecutionEventBus) {
      const task = running.get(taskId)
      running.delete(taskId)
      task?.cancel()
      bus.publish(
        AgentEvent.statusUpdate({
          taskId,
          contextId: task?.contextId ?? '',
          status: {
            state: TaskState.TASK_STATE_CANCELED,
            message: undefined,
            timestamp: new Date().toISOString(),
          },
          metadata: {},
        }),
      )
    },
  }

  async function run(requestContext: RequestContext, bus: ExecutionEventBus, call: A2aCall): Promise<void> {
    const { taskId, contextId } = requestContext
    call.taskId = taskId
    const message = requestContext.userMessage
    const data = messageData(message)
    // A message with the id of a task that waits for its caller (input-required …) continues that task.
    const previous = requestContext.task
    let lastArtifactId: string | undefined
    let published = false
    let settled = false
    let settle: (outcome: Outcome) => void = () => {}
    const finished = new Promise<Outcome>((resolve) => {
      settle = (outcome) => {
        if (settled) return
        settled = true
        resolve(outcome)
      }
    })
    let streamId: string | undefined
    let chunks = 0

    const publishTask = () => {
      if (published) return
      published = true
      const working = {
        state: TaskState.TASK_STATE_WORKING,
        message: undefined,
        timestamp: new Date().toISOString(),
      }
      // A follow-up turn re-publishes the stored task (history holds the new message already), now WORKING.
      if (previous !== undefined) {
        bus.publish(AgentEvent.task({ ...previous, status: working }))
        return
      }
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
          metadata: { parley: { agentId: call.agentId, node: options.nodeId } },
        }),
      )
    }

    /**
     * A task-model chunk (or answer): publishes an artifact or a WORKING status (null), or gives the outcome
     * that ends the call in the agent's state. Undefined for plain data.
     */
    const taskChunkOutcome = (chunkData: unknown): Outcome | null | undefined => {
      const meaning = taskChunkMeaning(chunkData, lastArtifactId)
      switch (meaning.kind) {
        case 'plain':
          return undefined
        case 'invalid':
          return { kind: 'failed', error: errorBody('bad_request', meaning.message) }
        case 'artifact':
          lastArtifactId = meaning.artifact.artifactId
          bus.publish(
            AgentEvent.artifactUpdate({
              taskId,
              contextId,
              artifact: meaning.artifact,
              append: meaning.append,
              lastChunk: meaning.lastChunk,
              metadata: {},
            }),
          )
          return null
        case 'status':
          if (A2A_CALL_ENDING_STATES.includes(meaning.state))
            return { kind: 'state', state: meaning.state, message: meaning.message }
          publishStatus(bus, taskId, contextId, meaning.state, meaning.message)
          return null
      }
    }

    const a2aTask = { taskId, contextId, continued: previous !== undefined }
    const caller = entryCaller('a2a', { ...call.principal, a2aTask }, (frame) => {
      switch (frame.type) {
        case 'reply':
          if (frame.id !== CALL_ID) return
          if (call.streaming) {
            streamId = String((frame.result as { streamId: string }).streamId)
            publishTask()
            // The caller sends nothing into the stream: its side ends at once.
            agents.handleFrom(caller, { type: 'stream_end', streamId }, 0)
          } else settle({ kind: 'answer', data: (frame.result as { data: unknown }).data })
          return
        case 'error':
          if (frame.id === CALL_ID || frame.id === undefined) settle({ kind: 'failed', error: frame })
          return
        case 'stream_chunk':
          if (frame.streamId !== streamId || settled) return
          {
            const taskOutcome = taskChunkOutcome(frame.data)
            if (taskOutcome !== undefined) {
              if (taskOutcome !== null) settle(taskOutcome)
              else
                agents.handleFrom(caller, { type: 'stream_credit', streamId: frame.streamId, credit: 1 }, 0)
              return
            }
          }
          chunks += 1
          bus.publish(
            AgentEvent.artifactUpdate({
              taskId,
              contextId,
              artifact: {
                artifactId: 'stream',
                name: 'stream',
                description: '',
                parts: dataParts(frame.data),
                metadata: {},
                extensions: [],
              },
              append: chunks > 1,
              lastChunk: false,
              metadata: { seq: frame.seq },
            }),
          )
          agents.handleFrom(caller, { type: 'stream_credit', streamId: frame.streamId, credit: 1 }, 0)
          return
        case 'stream_end':
          if (frame.streamId === streamId) settle({ kind: 'ended' })
          return
        case 'stream_error':
          if (frame.streamId === streamId)
            settle({ kind: 'failed', error: { ...frame.error, retryable: false } as ErrorBody })
          return
        case 'stream_abort':
          if (frame.streamId === streamId)
            settle({
              kind: 'failed',
              error: {
                code: 'agent_unavailable',
                message: `the agent ended the stream: ${frame.reason}`,
                retryable: true,
              },
            })
          return
        default:
          return
      }
    })

    const size = Buffer.byteLength(JSON.stringify(data))
    const target = call.agentId
    try {
      await agents.handleFrom(
        caller,
        call.streaming
          ? { type: 'stream_open', id: CALL_ID, target, data, ...call.trace }
          : { type: 'request', id: CALL_ID, target, data, ...call.trace },
        size,
      )
    } catch (error) {
      settle({ kind: 'failed', error: thrownErrorBody(error) })
    }
    // Refused before the agent got it (access, no route, limits): nothing is published, the routes answer it.
    if (settled && !published) {
      const outcome = await finished
      if (outcome.kind === 'failed') call.refusal = outcome.error
      caller.close()
      return
    }
    publishTask()
    running.set(taskId, {
      contextId,
      bus,
      cancel() {
        if (streamId !== undefined)
          agents.handleFrom(caller, { type: 'stream_abort', streamId, reason: 'canceled' }, 0)
        else agents.cancelFrom(caller, CALL_ID, 'canceled by the A2A caller')
        settle({ kind: 'canceled' })
      },
    })
    let outcome = await finished
    // A request's answer may speak the task model too: an artifact or WORKING (then COMPLETED), or an ending state.
    if (outcome.kind === 'answer') {
      const taskOutcome = taskChunkOutcome(outcome.data)
      if (taskOutcome !== undefined) outcome = taskOutcome ?? { kind: 'ended' }
    }
    running.delete(taskId)
    caller.close()
    agents.connectionClosed(caller)
    finish(bus, taskId, contextId, outcome)
  }

  function finish(bus: ExecutionEventBus, taskId: string, contextId: string, outcome: Outcome): void {
    const at = new Date().toISOString()
    switch (outcome.kind) {
      case 'canceled':
        // `cancelTask` published CANCELED already.
        return
      case 'answer':
        bus.publish(
          AgentEvent.artifactUpdate({
            taskId,
            contextId,
            artifact: {
              artifactId: 'answer',
              name: 'answer',
              description: '',
              parts: dataParts(outcome.data),
              metadata: {},
              extensions: [],
            },
            append: false,
            lastChunk: true,
            metadata: {},
          }),
        )
        break
      case 'failed':
        logger.debug({ taskId, code: outcome.error.code }, 'A2A task failed')
        bus.publish(
          AgentEvent.statusUpdate({
            taskId,
            contextId,
            status: {
              state: TaskState.TASK_STATE_FAILED,
              message: agentMessage(taskId, contextId, `${outcome.error.code}: ${outcome.error.message}`, {
                parley: { code: outcome.error.code },
              }),
              timestamp: at,
            },
            metadata: {},
          }),
        )
        return
      case 'state':
        publishStatus(bus, taskId, contextId, outcome.state, outcome.message)
        return
      case 'ended':
        break
    }
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: { state: TaskState.TASK_STATE_COMPLETED, message: undefined, timestamp: at },
        metadata: {},
      }),
    )
  }

  /** A status the agent set, with its message (the question of `input-required`) as an agent message. */
  function publishStatus(
    bus: ExecutionEventBus,
    taskId: string,
    contextId: string,
    state: A2aAgentTaskState,
    message: string | undefined,
  ): void {
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: {
          state: TASK_STATE_OF[state],
          message: message === undefined ? undefined : agentMessage(taskId, contextId, message),
          timestamp: new Date().toISOString(),
        },
        metadata: {},
      }),
    )
  }

  return {
    executor,
    runningTasks: () => running.size,
    /** Whether this node runs the task now. */
    runsHere: (taskId: string) => running.has(taskId),
    /**
     * Cancels a task this node runs (a `CancelTask` another node received): the agent's work is aborted and
     * CANCELED is published to the call's own event bus, so its caller's stream ends with it. False when the
     * task does not run here.
     */
    cancelHere(taskId: string): boolean {
      const task = running.get(taskId)
      if (task === undefined) return false
      void executor.cancelTask(taskId, task.bus)
      return true
    },
  }
}
