import { StoreError, TaskNotFoundError } from '../errors.js'
import {
  applyTaskEvent,
  type CheckedTaskEvent,
  type StoredTask,
  type StoredTaskEvent,
  type TaskLimits,
  toTaskEvent,
  toTaskSummary,
} from './task-records.js'
import type { AppendedTaskEvent } from './types.js'

/**
 * Appends travel in batches (one transaction or script for many events, as a stream's chunks arrive): each
 * event of a batch is applied in call order to the task as the previous ones left it, and each gets its
 * own outcome, so a refused event (a terminal task, an artifact over the limit) fails alone.
 */

export interface AppendRequest {
  taskId: string
  event: CheckedTaskEvent
}

export type AppendOutcome = { appended: AppendedTaskEvent } | { refused: StoreError }

export interface AppliedBatch {
  outcomes: AppendOutcome[]
  /** The tasks the batch changed, as they are after it. */
  changed: Map<string, StoredTask>
  /** The new events, in sequence order per task. */
  events: StoredTaskEvent[]
}

/** Applies a batch to the tasks as read (locked) by the caller; `undefined` is a task that does not exist. */
export function applyAppendBatch(
  current: Map<string, StoredTask | undefined>,
  requests: AppendRequest[],
  limits: TaskLimits,
): AppliedBatch {
  const changed = new Map<string, StoredTask>()
  const events: StoredTaskEvent[] = []
  const outcomes = requests.map((request): AppendOutcome => {
    const task = changed.get(request.taskId) ?? current.get(request.taskId)
    if (task === undefined) return { refused: new TaskNotFoundError(request.taskId) }
    try {
      const applied = applyTaskEvent(task, request.event, limits)
      changed.set(request.taskId, applied.task)
      events.push(applied.event)
      return { appended: { event: toTaskEvent(applied.event), task: toTaskSummary(applied.task) } }
    } catch (error) {
      // Only the store's own refusals fail an event alone; anything else fails the batch.
      if (error instanceof StoreError) return { refused: error }
      throw error
    }
  })
  return { outcomes, changed, events }
}

/** The appended event, or the refusal thrown to its caller. */
export function settleAppend(outcome: AppendOutcome | undefined): AppendedTaskEvent {
  if (outcome === undefined) throw new Error('an append batch answered fewer outcomes than requests')
  if ('refused' in outcome) throw outcome.refused
  return outcome.appended
}

/**
 * Batches per key: the first call for a key runs at once (after the current microtask); calls made while
 * a batch of that key is in flight wait and all go in the next batch, in call order.
 */
export function createKeyedBatches<Request, Outcome>(
  run: (key: string, requests: Request[]) => Promise<Outcome[]>,
  maxBatch: number,
) {
  const queues = new Map<
    string,
    { request: Request; resolve(outcome: Outcome): void; reject(error: unknown): void }[]
  >()
  const draining = new Set<Promise<void>>()

  async function drain(key: string): Promise<void> {
    await Promise.resolve()
    for (;;) {
      const queue = queues.get(key) ?? []
      if (queue.length === 0) {
        queues.delete(key)
        return
      }
      const batch = queue.splice(0, maxBatch)
      try {
        const outcomes = await run(
          key,
          batch.map((call) => call.request),
        )
        batch.forEach((call, index) => {
          call.resolve(outcomes[index] as Outcome)
        })
      } catch (error) {
        for (const call of batch) call.reject(error)
      }
    }
  }

  return {
    submit: (key: string, request: Request): Promise<Outcome> =>
      new Promise<Outcome>((resolve, reject) => {
        const queue = queues.get(key)
        if (queue !== undefined) {
          queue.push({ request, resolve, reject })
          return
        }
        queues.set(key, [{ request, resolve, reject }])
        const drained = drain(key)
        draining.add(drained)
        void drained.then(() => draining.delete(drained))
      }),
    /** Resolves once every queued and running batch is done. */
    async idle(): Promise<void> {
      while (draining.size > 0) await Promise.all(draining)
    },
  }
}
