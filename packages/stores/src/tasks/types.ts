import type { StateValue } from '../state/types.js'

/**
 * Contracts of the task store: durable A2A tasks, their ordered event logs and their push-notification
 * configs. Structural interfaces: a plain object with these methods works, no base class.
 *
 * The store knows A2A only as far as it must to keep a task's state: a status event carries the new
 * state and a `status` object, an artifact event an `artifact` with an `artifactId` (and `append`). Every
 * payload is otherwise opaque JSON, kept as written (the gateway picks the wire form, v1.0 or v0.3).
 * Times are epoch milliseconds; writes take `now` (default `Date.now()`).
 */

/** JSON as `JSON.parse` returns it. */
export type TaskJson = StateValue

/** A2A task states, in the v0.3 spelling (v1.0's `TASK_STATE_INPUT_REQUIRED` is `input-required`). */
export const TASK_STATES = [
  'submitted',
  'working',
  'input-required',
  'auth-required',
  'completed',
  'canceled',
  'failed',
  'rejected',
  'unknown',
] as const
export type TaskState = (typeof TASK_STATES)[number]

/** States a task never leaves: appending to such a task throws `TaskTerminalError`. */
export const TERMINAL_TASK_STATES = ['completed', 'canceled', 'failed', 'rejected'] as const
export type TerminalTaskState = (typeof TERMINAL_TASK_STATES)[number]

export const TASK_EVENT_KINDS = ['status', 'artifact', 'message'] as const
export type TaskEventKind = (typeof TASK_EVENT_KINDS)[number]

/**
 * Who may read a task: its owner (the caller principal that created it), or the agent that serves it.
 * A task outside the scope reads as absent, exactly like an unknown id.
 */
export type TaskScope = { owner: string } | { agentId: string }

/** One task: identity, state, status, artifacts and metadata (what A2A `GetTask` answers, minus history). */
export interface TaskRecord {
  id: string
  contextId: string
  /** The Parley agent that serves it. */
  agentId: string
  /** The caller principal that created it; only it may read, list, cancel or watch the task. */
  owner: string
  state: TaskState
  /** The latest A2A `TaskStatus` as JSON (`state`, `message`, `timestamp`), null until one is known. */
  status: TaskJson | null
  /** The task's artifacts, folded from its artifact events (empty when a list left them out). */
  artifacts: TaskJson[]
  metadata: TaskJson | null
  /** Sequence number of the newest event; 0 before the first. */
  lastSeq: number
  createdAt: number
  /** Time of the newest change; never goes back. */
  updatedAt: number
}

/** One entry of a task's event log. Sequence numbers are 1, 2, 3, … per task, without gaps. */
export interface TaskEvent {
  taskId: string
  seq: number
  kind: TaskEventKind
  /** Status events: the state the task moved to. */
  state: TaskState | null
  payload: TaskJson
  createdAt: number
}

export interface CreateTaskInput {
  id: string
  contextId: string
  agentId: string
  owner: string
  /** Default `submitted`. A task may be created terminal (rejected at once). */
  state?: TaskState
  /** The initial A2A `TaskStatus` JSON. */
  status?: unknown
  metadata?: unknown
  /** The message that started the task: stored as event 1, of kind `message`, in the same commit. */
  message?: unknown
  now?: number
}

/**
 * An event to append. How each kind changes the task (as the SDK's ResultManager changes a task):
 * - `status`: the task moves to `state`; `payload.status` (an object) becomes the task's `status`.
 *   The payload is the whole A2A `TaskStatusUpdateEvent`; a `status.message` joins the history.
 * - `artifact`: `payload.artifact` (an object with a string `artifactId`) replaces the artifact with that
 *   id, or is added after the others; with `payload.append: true` its `parts` are added to the existing
 *   artifact's parts, its `name` and `description` (when set) replace the existing ones and its `metadata`
 *   is merged into the existing one's. The payload is the whole A2A `TaskArtifactUpdateEvent`.
 * - `message`: a `Message` of the conversation (a user's follow-up, an agent's reply); the task only
 *   changes its `updatedAt`. It joins the history.
 * A status or artifact payload's `metadata` object is merged (shallow) into the task's metadata.
 */
export type TaskEventInput =
  | { kind: 'status'; state: TaskState; payload: unknown; now?: number }
  | { kind: 'artifact'; payload: unknown; now?: number }
  | { kind: 'message'; payload: unknown; now?: number }

/** A task without its artifacts: what an append answers (folding the artifacts is left to reads). */
export type TaskSummary = Omit<TaskRecord, 'artifacts'>

export interface AppendedTaskEvent {
  event: TaskEvent
  /** The task after the event, without its artifacts. */
  task: TaskSummary
}

export interface TaskEventsQuery {
  /** Events with a larger sequence number (exclusive); default 0, from the first. */
  afterSeq?: number
  /** Default and maximum `MAX_TASK_EVENTS_PAGE` (1,000). */
  limit?: number
}

export interface TaskListQuery {
  /** Only this owner's tasks: a list is always scoped to its caller. */
  owner: string
  agentId?: string
  contextId?: string
  state?: TaskState
  /** Tasks changed strictly after this time (A2A `statusTimestampAfter`). */
  updatedAfter?: number
  /** Default 50, maximum 100 (A2A's bounds). */
  pageSize?: number
  /** `nextPageToken` of the previous page, with the same filters. */
  pageToken?: string
  /** Default false, as in A2A `ListTasks`: the tasks come with `artifacts: []`. */
  includeArtifacts?: boolean
}

export interface TaskPage {
  /** Newest change first: by `updatedAt` descending, then id descending (byte order). */
  tasks: TaskRecord[]
  /** null on the last page. */
  nextPageToken: string | null
  /** How many tasks match the filters, over all pages. */
  total: number
}

/** A2A push authentication: a scheme (`Bearer`, `Basic`, …) and its credentials. */
export interface TaskPushAuthentication {
  scheme: string
  credentials?: string
}

export interface TaskPushConfigInput {
  /** Default: a new `pnc_<random>` id. The same id again replaces that config. */
  id?: string
  /** Where updates are POSTed; the gateway checks it (https, no private addresses) before it gets here. */
  url: string
  /** Sent back in the notification (A2A `X-A2A-Notification-Token`). */
  token?: string
  authentication?: TaskPushAuthentication
  /** The A2A version the config was registered over (`1.0`, `0.3`), so notifications use its form. */
  protocolVersion?: string
  now?: number
}

/**
 * A push config as callers see it: the token and credentials are never returned, only whether they are
 * set. They are stored encrypted (AES-256-GCM with the store's `secretKey`).
 */
export interface TaskPushConfig {
  id: string
  taskId: string
  url: string
  hasToken: boolean
  authentication: { scheme: string; hasCredentials: boolean } | null
  protocolVersion: string | null
  createdAt: number
}

/** A push config with its secrets decrypted: for the notification sender only, never for a caller. */
export interface TaskPushTarget {
  id: string
  taskId: string
  url: string
  token: string | null
  authentication: { scheme: string; credentials: string | null } | null
  protocolVersion: string | null
}

export interface TaskStore {
  /** Creates a task (and its first `message` event when given); throws `TaskExistsError` on a taken id. */
  create(input: CreateTaskInput): Promise<TaskRecord>
  /** The task, or undefined when it does not exist or is outside the scope. */
  get(taskId: string, scope: TaskScope): Promise<TaskRecord | undefined>
  /**
   * Appends an event: takes the task's next sequence number and updates the task, in one
   * atomic step (concurrent appends, on any node, never share or skip a number). Throws
   * `TaskNotFoundError` for an unknown task and `TaskTerminalError` when the task is terminal.
   * The caller has already decided that the writer may write (the gateway routes the agent's events).
   */
  appendEvent(taskId: string, input: TaskEventInput): Promise<AppendedTaskEvent>
  /** Events after `afterSeq`, oldest first, gap-free; throws `TaskNotFoundError` outside the scope. */
  events(taskId: string, scope: TaskScope, query?: TaskEventsQuery): Promise<TaskEvent[]>
  /**
   * The task's newest `historyLength` history messages, oldest first (A2A `history`): the payloads of
   * message events and the `status.message` of status events that carry one, in sequence order.
   * Default and maximum `MAX_TASK_HISTORY` (1,000); 0 gives none. Throws `TaskNotFoundError` outside the scope.
   */
  history(taskId: string, scope: TaskScope, historyLength?: number): Promise<TaskJson[]>
  /** One owner's tasks, newest change first, with opaque page tokens. */
  list(query: TaskListQuery): Promise<TaskPage>

  /** Adds or replaces a push config of the owner's task; `TaskPushConfigLimitError` past the per-task cap. */
  setPushConfig(taskId: string, scope: { owner: string }, input: TaskPushConfigInput): Promise<TaskPushConfig>
  getPushConfig(
    taskId: string,
    scope: { owner: string },
    configId: string,
  ): Promise<TaskPushConfig | undefined>
  /** Oldest first. */
  listPushConfigs(taskId: string, scope: { owner: string }): Promise<TaskPushConfig[]>
  /** Resolves false when there was no such config. */
  deletePushConfig(taskId: string, scope: { owner: string }, configId: string): Promise<boolean>
  /** Every push config of a task with its secrets, oldest first: for the gateway's notification sender. */
  pushTargets(taskId: string): Promise<TaskPushTarget[]>

  /**
   * Retention: deletes terminal tasks whose last change is older than `before`, with their events and
   * push configs. Resolves how many tasks were deleted. Tasks that are not terminal are kept.
   */
  deleteExpired(before: number): Promise<number>
  /**
   * Tasks that are not terminal and have not changed since before `updatedBefore`, oldest change first, at
   * most `limit` (default 100, maximum 1,000), over all owners: work a node lost when it died. The gateway
   * ends them (a `failed` status event), and retention then deletes them.
   */
  listStale(query: { updatedBefore: number; limit?: number }): Promise<TaskSummary[]>
  /** Waits for the appends in flight (and closes the store's own connection, on Redis); data stays. */
  close(): Promise<void>
}

export interface TaskStoreOptions {
  /** Largest event payload (and initial status, metadata, message), as bytes of JSON. Default 1 MiB. */
  maxEventBytes?: number
  /** Most bytes of JSON of artifacts (all its artifact events' together) one task takes. Default 8 MiB. */
  maxArtifactsBytes?: number
  /** Push configs kept per task. Default 10. */
  maxPushConfigsPerTask?: number
  /**
   * Key of the push configs' secrets (≥ 32 bytes, stable across restarts and the same on every node).
   * Required by the Postgres and Redis stores; the memory store makes a random one when absent.
   */
  secretKey?: Uint8Array
}
