import { InvalidTaskError, TaskPayloadTooLargeError, TaskTerminalError } from '../errors.js'
import { isObject, mergeObjects } from './task-artifacts.js'
import {
  type CreateTaskInput,
  TASK_EVENT_KINDS,
  TASK_STATES,
  type TaskEvent,
  type TaskEventInput,
  type TaskEventKind,
  type TaskEventsQuery,
  type TaskJson,
  type TaskRecord,
  type TaskScope,
  type TaskState,
  type TaskSummary,
  TERMINAL_TASK_STATES,
} from './types.js'

/**
 * What every task store shares: argument checks, the stored form of a task and its events (JSON kept as
 * text, so each read gives a fresh copy and Postgres and Redis keep it verbatim), and `applyTaskEvent`,
 * the one place that says how an event changes a task.
 */

export const MAX_TASK_NAME_LENGTH = 512
export const MAX_TASK_EVENTS_PAGE = 1_000
export const MAX_TASK_HISTORY = 1_000
export const DEFAULT_TASK_PAGE_SIZE = 50
export const MAX_TASK_PAGE_SIZE = 100
export const DEFAULT_MAX_TASK_EVENT_BYTES = 1_048_576
export const DEFAULT_MAX_TASK_ARTIFACTS_BYTES = 8_388_608

/** A task as every store keeps it: its JSON fields as text. */
export interface StoredTask {
  id: string
  contextId: string
  agentId: string
  owner: string
  state: TaskState
  /** JSON text or null. */
  status: string | null
  /** Bytes of JSON of the artifacts its events carried (the bound of `maxArtifactsBytes`). */
  artifactsBytes: number
  /** JSON text or null. */
  metadata: string | null
  lastSeq: number
  createdAt: number
  updatedAt: number
}

export interface StoredTaskEvent {
  taskId: string
  seq: number
  kind: TaskEventKind
  state: TaskState | null
  /** JSON text. */
  payload: string
  /** Whether it holds a message of the history: a message event, or a status event whose status has one. */
  inHistory: boolean
  createdAt: number
}

export interface TaskLimits {
  maxEventBytes: number
  maxArtifactsBytes: number
}

const TERMINAL = new Set<string>(TERMINAL_TASK_STATES)
const STATES = new Set<string>(TASK_STATES)
const KINDS = new Set<string>(TASK_EVENT_KINDS)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export function isTerminalTaskState(state: TaskState): boolean {
  return TERMINAL.has(state)
}

export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved < 1)
    throw new RangeError(`${name} must be a positive integer`)
  return resolved
}

/** Ids, owners and agent ids: non-empty text that Postgres can store and UTF-8 can encode. */
export function checkTaskName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidTaskError(field, `${field} must be a non-empty string.`)
  }
  if (value.length > MAX_TASK_NAME_LENGTH) {
    throw new InvalidTaskError(field, `${field} is longer than ${MAX_TASK_NAME_LENGTH} characters.`)
  }
  if (value.includes('\u0000') || LONE_SURROGATE.test(value)) {
    throw new InvalidTaskError(field, `${field} must not contain NUL characters or lone surrogates.`)
  }
  return value
}

export function checkTaskState(field: string, value: unknown): TaskState {
  if (typeof value !== 'string' || !STATES.has(value)) {
    throw new InvalidTaskError(field, `${field} must be one of ${TASK_STATES.join(', ')}.`)
  }
  return value as TaskState
}

function checkNow(now: unknown): number {
  if (now === undefined) return Date.now()
  if (!Number.isSafeInteger(now) || (now as number) < 0) {
    throw new InvalidTaskError('now', 'now must be a non-negative integer of milliseconds.')
  }
  return now as number
}

export function checkTaskScope(scope: TaskScope): TaskScope {
  if (scope !== null && typeof scope === 'object') {
    if ('owner' in scope) return { owner: checkTaskName('owner', scope.owner) }
    if ('agentId' in scope) return { agentId: checkTaskName('agentId', scope.agentId) }
  }
  throw new InvalidTaskError('scope', 'scope must be { owner } or { agentId }.')
}

export function taskInScope(task: Pick<StoredTask, 'owner' | 'agentId'>, scope: TaskScope): boolean {
  return 'owner' in scope ? task.owner === scope.owner : task.agentId === scope.agentId
}

/** JSON text of a value, refused when JSON cannot hold it or it is over `limit` bytes. */
export function encodeTaskJson(
  field: TaskPayloadTooLargeError['field'],
  value: unknown,
  limit: number,
): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    // Cycles and bigints.
    throw new InvalidTaskError(field, `The ${field} cannot be written as JSON: ${(error as Error).message}`)
  }
  if (text === undefined) {
    throw new InvalidTaskError(
      field,
      `The ${field} cannot be written as JSON (undefined, a function or a symbol).`,
    )
  }
  const size = Buffer.byteLength(text, 'utf8')
  if (size > limit) throw new TaskPayloadTooLargeError(field, size, limit)
  return text
}

function optionalJson(field: 'status' | 'metadata', value: unknown, limit: number): string | null {
  return value === undefined || value === null ? null : encodeTaskJson(field, value, limit)
}

/** A new task and, when the input has a message, its first event. */
export function newStoredTask(
  input: CreateTaskInput,
  limits: TaskLimits,
): { task: StoredTask; event: StoredTaskEvent | undefined } {
  if (!isObject(input)) throw new InvalidTaskError('input', 'The task must be an object.')
  const now = checkNow(input.now)
  const task: StoredTask = {
    id: checkTaskName('id', input.id),
    contextId: checkTaskName('contextId', input.contextId),
    agentId: checkTaskName('agentId', input.agentId),
    owner: checkTaskName('owner', input.owner),
    state: input.state === undefined ? 'submitted' : checkTaskState('state', input.state),
    status: optionalJson('status', input.status, limits.maxEventBytes),
    artifactsBytes: 0,
    metadata: optionalJson('metadata', input.metadata, limits.maxEventBytes),
    lastSeq: 0,
    createdAt: now,
    updatedAt: now,
  }
  if (input.message === undefined) return { task, event: undefined }
  const event: StoredTaskEvent = {
    taskId: task.id,
    seq: 1,
    kind: 'message',
    state: null,
    payload: encodeTaskJson('message', input.message, limits.maxEventBytes),
    inHistory: true,
    createdAt: now,
  }
  return { task: { ...task, lastSeq: 1 }, event }
}

/** An event input checked and encoded, before it meets its task. */
export interface CheckedTaskEvent {
  kind: TaskEventKind
  state: TaskState | null
  payload: string
  /** Status events: the JSON text of `payload.status`. */
  status?: string
  /** Artifact events: bytes of JSON of the artifact. */
  artifactBytes?: number
  /** Status and artifact events: `payload.metadata`, merged into the task's metadata. */
  metadata?: Record<string, unknown>
  inHistory: boolean
  now: number
}

export function checkTaskEvent(input: TaskEventInput, limits: TaskLimits): CheckedTaskEvent {
  if (!isObject(input) || typeof input.kind !== 'string' || !KINDS.has(input.kind)) {
    throw new InvalidTaskError('kind', `kind must be one of ${TASK_EVENT_KINDS.join(', ')}.`)
  }
  const now = checkNow(input.now)
  const payload = encodeTaskJson('payload', input.payload, limits.maxEventBytes)
  const parsed = JSON.parse(payload) as unknown
  switch (input.kind) {
    case 'status': {
      const state = checkTaskState('state', input.state)
      if (!isObject(parsed) || !isObject(parsed.status)) {
        throw new InvalidTaskError('payload', 'A status event payload must have a `status` object.')
      }
      return {
        kind: 'status',
        state,
        payload,
        status: JSON.stringify(parsed.status),
        ...eventMetadata(parsed),
        inHistory: isObject(parsed.status.message),
        now,
      }
    }
    case 'artifact': {
      const artifact = isObject(parsed) ? parsed.artifact : undefined
      if (!isObject(artifact) || typeof artifact.artifactId !== 'string' || artifact.artifactId === '') {
        throw new InvalidTaskError(
          'payload',
          'An artifact event payload must have an `artifact` object with a non-empty `artifactId`.',
        )
      }
      return {
        kind: 'artifact',
        state: null,
        payload,
        artifactBytes: Buffer.byteLength(JSON.stringify(artifact), 'utf8'),
        ...eventMetadata(parsed as Record<string, unknown>),
        inHistory: false,
        now,
      }
    }
    default:
      return { kind: 'message', state: null, payload, inHistory: true, now }
  }
}

function eventMetadata(parsed: Record<string, unknown>): { metadata?: Record<string, unknown> } {
  return isObject(parsed.metadata) ? { metadata: parsed.metadata } : {}
}

/**
 * The task after an event, and the event with the task's next sequence number. Throws
 * `TaskTerminalError` when the task is terminal. Pure: each store runs it where its write is atomic.
 */
export function applyTaskEvent(
  task: StoredTask,
  event: CheckedTaskEvent,
  limits: TaskLimits,
): { task: StoredTask; event: StoredTaskEvent } {
  if (isTerminalTaskState(task.state)) throw new TaskTerminalError(task.id, task.state)
  const seq = task.lastSeq + 1
  const next: StoredTask = { ...task, lastSeq: seq, updatedAt: Math.max(task.updatedAt, event.now) }
  if (event.state !== null) next.state = event.state
  if (event.status !== undefined) next.status = event.status
  if (event.artifactBytes !== undefined) {
    next.artifactsBytes = task.artifactsBytes + event.artifactBytes
    if (next.artifactsBytes > limits.maxArtifactsBytes) {
      throw new TaskPayloadTooLargeError('artifacts', next.artifactsBytes, limits.maxArtifactsBytes)
    }
  }
  if (event.metadata !== undefined) {
    const existing = task.metadata === null ? null : JSON.parse(task.metadata)
    next.metadata = encodeTaskJson('metadata', mergeObjects(existing, event.metadata), limits.maxEventBytes)
  }
  return {
    task: next,
    event: {
      taskId: task.id,
      seq,
      kind: event.kind,
      state: event.state,
      payload: event.payload,
      inHistory: event.inHistory,
      createdAt: event.now,
    },
  }
}

function parseJson(text: string | null): TaskJson | null {
  return text === null ? null : (JSON.parse(text) as TaskJson)
}

/** The task without its artifacts (they are folded from its events: see `task-artifacts.ts`). */
export function toTaskSummary(stored: StoredTask): TaskSummary {
  return {
    id: stored.id,
    contextId: stored.contextId,
    agentId: stored.agentId,
    owner: stored.owner,
    state: stored.state,
    status: parseJson(stored.status),
    metadata: parseJson(stored.metadata),
    lastSeq: stored.lastSeq,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  }
}

export function toTaskRecord(stored: StoredTask, artifacts: TaskJson[] = []): TaskRecord {
  const { metadata, ...summary } = toTaskSummary(stored)
  return { ...summary, artifacts, metadata }
}

export function toTaskEvent(stored: StoredTaskEvent): TaskEvent {
  return {
    taskId: stored.taskId,
    seq: stored.seq,
    kind: stored.kind,
    state: stored.state,
    payload: JSON.parse(stored.payload) as TaskJson,
    createdAt: stored.createdAt,
  }
}

/** The retention cutoff of `deleteExpired`. */
export function checkCutoff(before: unknown): number {
  if (!Number.isSafeInteger(before)) {
    throw new InvalidTaskError('before', 'before must be an integer of epoch milliseconds.')
  }
  return before as number
}

/** The history message an event holds: a message event's payload, a status event's `status.message`. */
export function historyMessage(stored: Pick<StoredTaskEvent, 'kind' | 'payload'>): TaskJson {
  const payload = JSON.parse(stored.payload) as TaskJson
  if (stored.kind === 'message') return payload
  const status = isObject(payload) ? payload.status : undefined
  return isObject(status) ? ((status.message as TaskJson | undefined) ?? null) : null
}

export const DEFAULT_STALE_TASKS_LIMIT = 100

export function checkStaleQuery(query: { updatedBefore: number; limit?: number }): {
  updatedBefore: number
  limit: number
} {
  if (query === null || typeof query !== 'object' || !Number.isSafeInteger(query.updatedBefore)) {
    throw new InvalidTaskError('updatedBefore', 'updatedBefore must be an integer of epoch milliseconds.')
  }
  const limit = query.limit ?? DEFAULT_STALE_TASKS_LIMIT
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TASK_EVENTS_PAGE) {
    throw new InvalidTaskError('limit', `limit must be an integer from 1 to ${MAX_TASK_EVENTS_PAGE}.`)
  }
  return { updatedBefore: query.updatedBefore, limit }
}

/** Oldest change first, then id ascending: the order of `listStale`. */
export function compareTasksOldestFirst(
  a: Pick<StoredTask, 'updatedAt' | 'id'>,
  b: Pick<StoredTask, 'updatedAt' | 'id'>,
): number {
  return compareTasksNewestFirst(b, a)
}

export function checkEventsQuery(query: TaskEventsQuery = {}): { afterSeq: number; limit: number } {
  const afterSeq = query.afterSeq ?? 0
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
    throw new InvalidTaskError('afterSeq', 'afterSeq must be a non-negative integer.')
  }
  const limit = query.limit ?? MAX_TASK_EVENTS_PAGE
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TASK_EVENTS_PAGE) {
    throw new InvalidTaskError('limit', `limit must be an integer from 1 to ${MAX_TASK_EVENTS_PAGE}.`)
  }
  return { afterSeq, limit }
}

export function checkHistoryLength(historyLength: number | undefined): number {
  if (historyLength === undefined) return MAX_TASK_HISTORY
  if (!Number.isSafeInteger(historyLength) || historyLength < 0) {
    throw new InvalidTaskError('historyLength', 'historyLength must be a non-negative integer.')
  }
  return Math.min(historyLength, MAX_TASK_HISTORY)
}

/**
 * Byte order of the UTF-8 encodings (code point order): what Postgres gives with `collate "C"`, so every
 * store pages tasks with equal times in the same order.
 */
export function compareTaskIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** List order: newest change first, then id descending. */
export function compareTasksNewestFirst(
  a: Pick<StoredTask, 'updatedAt' | 'id'>,
  b: Pick<StoredTask, 'updatedAt' | 'id'>,
): number {
  return b.updatedAt - a.updatedAt || compareTaskIds(b.id, a.id)
}
