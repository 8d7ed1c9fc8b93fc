import { StreamResponse, TaskArtifactUpdateEvent, TaskStatusUpdateEvent } from '@a2a-js/sdk'
import { TaskNotFoundError } from '@a2a-js/sdk/errors'
import { isTerminalTaskState, type TaskEvent } from '@parley/stores'
import { type A2aTaskStore, taskOf } from './a2a-task-store.js'

/** How often a subscriber re-reads the store when no append on this node woke it (another node's appends). */
export const SUBSCRIBE_POLL_MS = 250

/** One SSE event of a followed task: its sequence number (the SSE `id`) and the v1.0 `StreamResponse` JSON. */
export interface SequencedEvent {
  seq: number
  response: unknown
}

/** A stored event as the `StreamResponse` a stream carried for it; user messages are not streamed. */
function responseOf(event: TaskEvent): unknown | undefined {
  if (event.kind === 'artifact')
    return StreamResponse.toJSON({
      payload: { $case: 'artifactUpdate', value: TaskArtifactUpdateEvent.fromJSON(event.payload) },
    })
  if (event.kind === 'status')
    return StreamResponse.toJSON({
      payload: { $case: 'statusUpdate', value: TaskStatusUpdateEvent.fromJSON(event.payload) },
    })
  return undefined
}

/** The task id a `StreamResponse` JSON is about. */
export function taskIdOfResponse(response: unknown): string | undefined {
  const value = (response ?? {}) as Record<string, { id?: unknown; taskId?: unknown } | undefined>
  const id =
    value.task?.id ?? value.statusUpdate?.taskId ?? value.artifactUpdate?.taskId ?? value.message?.taskId
  return typeof id === 'string' && id !== '' ? id : undefined
}

/** The `Last-Event-ID` a reconnecting SSE reader sends: the sequence number it saw last. */
export function lastEventId(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d{1,15}$/.test(header.trim())) return undefined
  return Number(header.trim())
}

/** Resolves at the next append to `taskId` on this node, or after `SUBSCRIBE_POLL_MS`. */
function nextAppend(tasks: A2aTaskStore, taskId: string) {
  let stop: () => void = () => {}
  const promise = new Promise<void>((resolve) => {
    const timer = setTimeout(done, SUBSCRIBE_POLL_MS)
    const unsubscribe = tasks.onAppended((appendedTo) => {
      if (appendedTo === taskId) done()
    })
    function done() {
      clearTimeout(timer)
      unsubscribe()
      resolve()
    }
    stop = done
  })
  return { promise, stop: () => stop() }
}

/**
 * `SubscribeToTask` from the durable store, so a cut stream resumes with nothing missed and nothing repeated,
 * on any node. Without `afterSeq`: the task as it is now (SSE id = its newest sequence number), then every
 * later event. With `afterSeq` (the reader's `Last-Event-ID`): the events after it. Each event carries its
 * sequence number; the stream ends after the terminal status.
 */
export async function* followTask(
  tasks: A2aTaskStore,
  taskId: string,
  caller: { owner: string; agentId: string },
  afterSeq: number | undefined,
): AsyncGenerator<SequencedEvent, void, undefined> {
  const store = tasks.durable()
  const scope = { owner: caller.owner }
  const record = await store.get(taskId, scope)
  if (record === undefined || record.agentId !== caller.agentId)
    throw new TaskNotFoundError(`Task not found: ${taskId}`)
  let after = afterSeq ?? record.lastSeq
  if (afterSeq === undefined) {
    const history = await store.history(taskId, scope)
    yield {
      seq: record.lastSeq,
      response: StreamResponse.toJSON({ payload: { $case: 'task', value: taskOf(record, history) } }),
    }
  }
  if (isTerminalTaskState(record.state) && after >= record.lastSeq) return
  for (;;) {
    // Listen before reading, so an append between the read and the wait is not missed.
    const wake = nextAppend(tasks, taskId)
    try {
      const events = await store.events(taskId, scope, { afterSeq: after })
      for (const event of events) {
        after = event.seq
        const response = responseOf(event)
        if (response !== undefined) yield { seq: event.seq, response }
        if (event.kind === 'status' && event.state !== null && isTerminalTaskState(event.state)) return
      }
      if (events.length === 0) await wake.promise
    } finally {
      wake.stop()
    }
  }
}
