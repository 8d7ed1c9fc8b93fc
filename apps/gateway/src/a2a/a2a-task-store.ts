import { hkdfSync } from 'node:crypto'
import {
  Artifact,
  type ListTasksRequest,
  type ListTasksResponse,
  Message,
  type Task,
  TaskState,
  TaskStatus,
} from '@a2a-js/sdk'
import type { TaskStore as SdkTaskStore, ServerCallContext } from '@a2a-js/sdk/server'
import {
  type TaskStore as ParleyTaskStore,
  type TaskState as StoredState,
  type TaskJson,
  type TaskRecord,
  TERMINAL_TASK_STATES,
} from '@parley/stores'
import { a2aCallOf } from './a2a-executor.js'

/**
 * Where A2A tasks are kept, as the SDK's `DefaultRequestHandler` sees them (`save` / `load` / `list` of whole
 * tasks, scoped by the caller's principal). `createA2aTaskStore` puts it over the durable `TaskStore` of
 * `@parley/stores`: the one place that knows both shapes.
 */
export interface A2aTaskStore extends SdkTaskStore {
  /** The sequence number of the newest event this node wrote for the task (while it runs here). */
  lastSeq(taskId: string): number | undefined
  /** Called after this node appended an event (or created a task): wakes its subscribers at once. */
  onAppended(listener: (taskId: string, seq: number) => void): () => void
  /** The durable store itself, for reads the SDK's contract has no words for (events after a sequence). */
  durable(): ParleyTaskStore
}

/** A task as one call's `load` read it (`record` undefined: absent; `history` undefined: not read). */
interface LoadedTask {
  taskId: string
  /** This node's newest sequence number of the task when it was read. */
  seq: number | undefined
  record: TaskRecord | undefined
  history: TaskJson[] | undefined
}

/** Tasks whose newest sequence number is remembered, at most (the oldest entries go first). */
const MAX_REMEMBERED_TASKS = 10_000

const TO_STORED: Partial<Record<TaskState, StoredState>> = {
  [TaskState.TASK_STATE_SUBMITTED]: 'submitted',
  [TaskState.TASK_STATE_WORKING]: 'working',
  [TaskState.TASK_STATE_INPUT_REQUIRED]: 'input-required',
  [TaskState.TASK_STATE_AUTH_REQUIRED]: 'auth-required',
  [TaskState.TASK_STATE_COMPLETED]: 'completed',
  [TaskState.TASK_STATE_CANCELED]: 'canceled',
  [TaskState.TASK_STATE_FAILED]: 'failed',
  [TaskState.TASK_STATE_REJECTED]: 'rejected',
}
const FROM_STORED = new Map(
  Object.entries(TO_STORED).map(([state, stored]) => [stored, Number(state) as TaskState]),
)

const isTerminal = (state: StoredState) => (TERMINAL_TASK_STATES as readonly string[]).includes(state)
const storedState = (state: TaskState | undefined): StoredState =>
  (state === undefined ? undefined : TO_STORED[state]) ?? 'unknown'
/** The principal a call's tasks belong to. */
export const ownerOf = (context: ServerCallContext) => context.user?.userName || 'unknown'
const json = (value: unknown) => JSON.stringify(value ?? null)

export function taskOf(record: TaskRecord, history: TaskJson[]): Task {
  return {
    id: record.id,
    contextId: record.contextId,
    status:
      record.status === null
        ? {
            state: FROM_STORED.get(record.state) ?? TaskState.TASK_STATE_UNSPECIFIED,
            message: undefined,
            timestamp: undefined,
          }
        : TaskStatus.fromJSON(record.status),
    artifacts: record.artifacts.map((artifact) => Artifact.fromJSON(artifact)),
    history: history.map((message) => Message.fromJSON(message)),
    metadata: (record.metadata ?? {}) as Task['metadata'],
  }
}

/**
 * The SDK's task store over the durable one. `save` turns the difference between the task the SDK saves and
 * the stored one into events, in the order the SDK made them: new user messages, artifact changes (parts
 * added to an artifact become an `append` event carrying only the new parts, so a stream is stored chunk by
 * chunk), then the status (last: a terminal status ends the task's appends). `load` is the stored snapshot
 * plus its history. A task belongs to the agent it was created for: another agent's face reads it as absent.
 */
export function createA2aTaskStore(tasks: () => ParleyTaskStore): A2aTaskStore {
  const lastSeqs = new Map<string, number>()
  const listeners = new Set<(taskId: string, seq: number) => void>()

  function appended(taskId: string, seq: number): void {
    lastSeqs.delete(taskId)
    lastSeqs.set(taskId, seq)
    if (lastSeqs.size > MAX_REMEMBERED_TASKS) lastSeqs.delete(lastSeqs.keys().next().value as string)
    for (const listener of listeners) listener(taskId, seq)
  }

  // The durable store opens with the gateway's storage, after the routes are registered.
  const store = {
    get: (...args: Parameters<ParleyTaskStore['get']>) => tasks().get(...args),
    async create(...args: Parameters<ParleyTaskStore['create']>) {
      const record = await tasks().create(...args)
      appended(record.id, record.lastSeq)
      return record
    },
    async appendEvent(...args: Parameters<ParleyTaskStore['appendEvent']>) {
      const result = await tasks().appendEvent(...args)
      appended(result.event.taskId, result.event.seq)
      return result
    },
    history: (...args: Parameters<ParleyTaskStore['history']>) => tasks().history(...args),
    list: (...args: Parameters<ParleyTaskStore['list']>) => tasks().list(...args),
  }

  /**
   * What the last `load` of a call read, for the `save` the SDK makes right after it (it loads, merges one
   * event, saves): that save reuses the read instead of reading the task and its history again. Used once,
   * only while this node appended nothing to the task since (`lastSeqs`: another call's event, a cancel), and
   * only within the same turn of the event loop (the SDK saves right after the load, with no I/O between):
   * a later save, which another node's write may have preceded, reads afresh. Per call, so it goes with it.
   */
  const lastLoads = new WeakMap<ServerCallContext, LoadedTask>()

  function remember(context: ServerCallContext, loaded: LoadedTask): void {
    lastLoads.set(context, loaded)
    setImmediate(() => {
      if (lastLoads.get(context) === loaded) lastLoads.delete(context)
    })
  }

  function takeLoaded(taskId: string, context: ServerCallContext): LoadedTask | undefined {
    const loaded = lastLoads.get(context)
    lastLoads.delete(context)
    return loaded?.taskId === taskId && loaded.seq === lastSeqs.get(taskId) ? loaded : undefined
  }

  function inScope(record: TaskRecord | undefined, context: ServerCallContext): TaskRecord | undefined {
    const agentId = a2aCallOf(context)?.agentId
    return record === undefined || (agentId !== undefined && record.agentId !== agentId) ? undefined : record
  }

  async function appendArtifacts(task: Task, stored: TaskJson[]): Promise<void> {
    const byId = new Map(
      stored.map((artifact) => [(artifact as { artifactId?: string }).artifactId, artifact]),
    )
    for (const artifact of task.artifacts) {
      const next = Artifact.toJSON(artifact) as { parts?: unknown[] }
      const previous = byId.get(artifact.artifactId) as { parts?: unknown[] } | undefined
      if (previous !== undefined && json(previous) === json(next)) continue
      const before = previous?.parts ?? []
      const after = next.parts ?? []
      const grows =
        previous !== undefined &&
        after.length > before.length &&
        json({ ...previous, parts: [] }) === json({ ...next, parts: [] }) &&
        before.every((part, index) => json(part) === json(after[index]))
      const payload = grows
        ? {
            taskId: task.id,
            contextId: task.contextId,
            artifact: { ...next, parts: after.slice(before.length) },
            append: true,
          }
        : { taskId: task.id, contextId: task.contextId, artifact: next, append: false }
      await store.appendEvent(task.id, { kind: 'artifact', payload })
    }
  }

  return {
    lastSeq: (taskId) => lastSeqs.get(taskId),
    onAppended(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    durable: tasks,

    async load(taskId, context) {
      const owner = ownerOf(context)
      const seq = lastSeqs.get(taskId)
      const stored = await store.get(taskId, { owner })
      const record = inScope(stored, context)
      if (record === undefined) {
        remember(context, { taskId, seq, record: stored, history: undefined })
        return undefined
      }
      const history = await store.history(taskId, { owner })
      remember(context, { taskId, seq, record: stored, history })
      return taskOf(record, history)
    },

    async save(task, context) {
      const owner = ownerOf(context)
      const statusJson = task.status === undefined ? null : TaskStatus.toJSON(task.status)
      const statusMessageId = task.status?.message?.messageId
      const loaded = takeLoaded(task.id, context)
      let record = loaded === undefined ? await store.get(task.id, { owner }) : loaded.record
      let knownMessages: Set<string>
      if (record === undefined) {
        const [first] = task.history
        record = await store.create({
          id: task.id,
          contextId: task.contextId,
          agentId: a2aCallOf(context)?.agentId ?? '',
          owner,
          state: storedState(task.status?.state),
          status: statusJson,
          metadata: task.metadata ?? null,
          ...(first === undefined ? {} : { message: Message.toJSON(first) }),
        })
        // Push configs given inline in SendMessage wait for the task (see a2a-push.ts).
        const call = a2aCallOf(context)
        for (const input of call?.pendingPushConfigs?.splice(0) ?? []) {
          await tasks().setPushConfig(task.id, { owner }, input)
        }
        knownMessages = new Set(first === undefined ? [] : [first.messageId])
        if (statusMessageId !== undefined) knownMessages.add(statusMessageId)
      } else {
        const history = loaded?.history ?? (await store.history(task.id, { owner }))
        knownMessages = new Set(history.map((message) => (message as { messageId?: string }).messageId ?? ''))
      }
      for (const message of task.history) {
        // A status message joins the history through its status event.
        if (knownMessages.has(message.messageId) || message.messageId === statusMessageId) continue
        await store.appendEvent(task.id, { kind: 'message', payload: Message.toJSON(message) })
      }
      await appendArtifacts(task, record.artifacts)
      const state = storedState(task.status?.state)
      // A task canceled by another node is canceled here too (its node publishes CANCELED to its own caller):
      // the state it has already is not appended again.
      const alreadyEnded = state === record.state && isTerminal(state)
      if (statusJson !== null && json(statusJson) !== json(record.status) && !alreadyEnded) {
        await store.appendEvent(task.id, {
          kind: 'status',
          state,
          payload: { taskId: task.id, contextId: task.contextId, status: statusJson },
        })
      }
    },

    async list(params: ListTasksRequest, context): Promise<ListTasksResponse> {
      const owner = ownerOf(context)
      const agentId = a2aCallOf(context)?.agentId
      const updatedAfter = params.statusTimestampAfter ? Date.parse(params.statusTimestampAfter) : undefined
      const page = await store.list({
        owner,
        ...(agentId === undefined ? {} : { agentId }),
        ...(params.contextId ? { contextId: params.contextId } : {}),
        ...(params.status ? { state: storedState(params.status) } : {}),
        ...(updatedAfter === undefined ? {} : { updatedAfter }),
        ...(params.pageSize === undefined ? {} : { pageSize: params.pageSize }),
        ...(params.pageToken ? { pageToken: params.pageToken } : {}),
        includeArtifacts: params.includeArtifacts === true,
      })
      const historyLength = params.historyLength ?? 0
      const tasks = await Promise.all(
        page.tasks.map(async (record) =>
          taskOf(record, historyLength === 0 ? [] : await store.history(record.id, { owner }, historyLength)),
        ),
      )
      return {
        tasks,
        nextPageToken: page.nextPageToken ?? '',
        pageSize: params.pageSize ?? tasks.length,
        totalSize: page.total,
      }
    },
  }
}

/** The key of the task store's push secrets, derived from the pairing secret (the same on every node). */
export function taskSecretKey(pairingSecret: Uint8Array): Uint8Array {
  return new Uint8Array(
    hkdfSync('sha256', pairingSecret, new Uint8Array(0), 'parley a2a task push secrets', 32),
  )
}
