import type { ErrorCode } from '@parley/protocol'

/**
 * Domain errors of the stores. Each carries the protocol error code the edge (HTTP or WebSocket) should
 * answer with, so the gateway maps them in one place.
 */
export class StoreError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreError'
    this.code = code
  }
}

/** A pagination cursor that this store did not produce (tampered, truncated or from another store). */
export class InvalidCursorError extends StoreError {
  constructor(message = 'The cursor is not valid; use a `nextCursor` from a previous page.') {
    super('bad_request', message)
    this.name = 'InvalidCursorError'
  }
}

/** The database URL has a scheme we do not know how to open. */
export class UnsupportedDatabaseUrlError extends StoreError {
  constructor(url: string) {
    super(
      'bad_request',
      `Unsupported database URL scheme in "${redactUrl(url)}": use memory://, postgres:// or postgresql://, or leave it unset for embedded PGlite.`,
    )
    this.name = 'UnsupportedDatabaseUrlError'
  }
}

/** Hides a password so a URL can go into an error message. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')
}

/** Another process (or this one) already has the embedded PGlite data folder open. */
export class DataDirLockedError extends StoreError {
  readonly dataDir: string
  readonly pid: number | undefined

  constructor(dataDir: string, pid: number | undefined) {
    const holder =
      pid === undefined ? 'another process' : pid === process.pid ? 'this process' : `process ${pid}`
    super(
      'unavailable',
      `The data folder ${dataDir} is already open in ${holder}. Only one process at a time may use an embedded PGlite data folder: stop the other gateway, give this one another data folder, or run several gateways on a PostgreSQL server (postgres://…).`,
    )
    this.name = 'DataDirLockedError'
    this.dataDir = dataDir
    this.pid = pid
  }
}

/** A channel type already has the maximum of pending pairing requests: a new sender must wait. */
export class PairingLimitError extends StoreError {
  readonly channelType: string
  readonly limit: number

  constructor(channelType: string, limit: number) {
    super(
      'rate_limited',
      `Channel type "${channelType}" already has ${limit} pending pairing requests; approve or deny some, or wait for them to expire.`,
    )
    this.name = 'PairingLimitError'
    this.channelType = channelType
    this.limit = limit
  }
}

/** A session id is already bound to another principal; a binding is written once. */
export class SessionBindingConflictError extends StoreError {
  readonly sessionId: string

  constructor(sessionId: string) {
    super('conflict', 'The session is already bound to another principal.')
    this.name = 'SessionBindingConflictError'
    this.sessionId = sessionId
  }
}

/** An agent key that is not a raw 32-byte Ed25519 key in base64url, or whose did:key is not the id given. */
export class InvalidAgentKeyError extends StoreError {
  readonly reason: 'malformed_key' | 'did_mismatch'

  constructor(reason: 'malformed_key' | 'did_mismatch', message: string) {
    super('bad_request', message)
    this.name = 'InvalidAgentKeyError'
    this.reason = reason
  }
}

/** A policy rule (or a field of one) that is not valid; `field` names the offending field. */
export class InvalidPolicyRuleError extends StoreError {
  readonly field: string

  constructor(field: string, message: string) {
    super('bad_request', message)
    this.name = 'InvalidPolicyRuleError'
    this.field = field
  }
}

/** A grant with a missing or malformed party or reason; `field` names the part (`from.clientId`, …). */
export class InvalidGrantError extends StoreError {
  readonly field: string

  constructor(field: string, message: string) {
    super('bad_request', message)
    this.name = 'InvalidGrantError'
    this.field = field
  }
}

/** A policy rule with the id given to `create` already exists. */
export class PolicyRuleExistsError extends StoreError {
  readonly ruleId: string

  constructor(ruleId: string) {
    super('conflict', `A policy rule with id "${ruleId}" already exists.`)
    this.name = 'PolicyRuleExistsError'
    this.ruleId = ruleId
  }
}

/** A state namespace, key, value or author that is not valid; `field` names the offending argument. */
export class InvalidStateEntryError extends StoreError {
  readonly field: 'namespace' | 'key' | 'value' | 'by' | 'expectedVersion' | 'limit' | 'after'

  constructor(field: InvalidStateEntryError['field'], message: string) {
    super('bad_request', message)
    this.name = 'InvalidStateEntryError'
    this.field = field
  }
}

/** A state value whose JSON text is larger than the store's `maxValueBytes`. */
export class StateValueTooLargeError extends StoreError {
  readonly size: number
  readonly limit: number

  constructor(size: number, limit: number) {
    super('payload_too_large', `The state value is ${size} bytes as JSON; the limit is ${limit} bytes.`)
    this.name = 'StateValueTooLargeError'
    this.size = size
    this.limit = limit
  }
}

/**
 * A compare-and-set whose expected version is not the key's current one. `currentVersion` is 0 when the
 * key does not exist (never written, or deleted): read it again, then retry.
 */
export class StateVersionConflictError extends StoreError {
  readonly namespace: string
  readonly key: string
  readonly expectedVersion: number
  readonly currentVersion: number

  constructor(namespace: string, key: string, expectedVersion: number, currentVersion: number) {
    super(
      'conflict',
      currentVersion === 0
        ? `The state key does not exist; expected version ${expectedVersion}.`
        : `The state key is at version ${currentVersion}; expected version ${expectedVersion}.`,
    )
    this.name = 'StateVersionConflictError'
    this.namespace = namespace
    this.key = key
    this.expectedVersion = expectedVersion
    this.currentVersion = currentVersion
  }
}

/** A task, task event or push config argument that is not valid; `field` names the offending argument. */
export class InvalidTaskError extends StoreError {
  readonly field: string

  constructor(field: string, message: string) {
    super('bad_request', message)
    this.name = 'InvalidTaskError'
    this.field = field
  }
}

/** No task with this id, or none the caller may see (another owner's task reads as absent). */
export class TaskNotFoundError extends StoreError {
  readonly taskId: string

  constructor(taskId: string) {
    super('not_found', 'The task does not exist.')
    this.name = 'TaskNotFoundError'
    this.taskId = taskId
  }
}

/** `create` with an id that is already taken. */
export class TaskExistsError extends StoreError {
  readonly taskId: string

  constructor(taskId: string) {
    super('conflict', 'A task with this id already exists.')
    this.name = 'TaskExistsError'
    this.taskId = taskId
  }
}

/**
 * An event appended to a task that is already completed, canceled, failed or rejected: a terminal task
 * never changes again (A2A answers a cancel of one with TaskNotCancelableError, -32002).
 */
export class TaskTerminalError extends StoreError {
  readonly taskId: string
  readonly state: string

  constructor(taskId: string, state: string) {
    super('conflict', `The task is ${state}: a terminal task takes no more events.`)
    this.name = 'TaskTerminalError'
    this.taskId = taskId
    this.state = state
  }
}

/** An event payload, or the task snapshot it would grow, larger than the store's limit. */
export class TaskPayloadTooLargeError extends StoreError {
  readonly field: 'payload' | 'status' | 'metadata' | 'message' | 'artifacts'
  readonly size: number
  readonly limit: number

  constructor(field: TaskPayloadTooLargeError['field'], size: number, limit: number) {
    super('payload_too_large', `The task's ${field} is ${size} bytes as JSON; the limit is ${limit} bytes.`)
    this.name = 'TaskPayloadTooLargeError'
    this.field = field
    this.size = size
    this.limit = limit
  }
}

/** A task already has the most push configs the store keeps per task. */
export class TaskPushConfigLimitError extends StoreError {
  readonly taskId: string
  readonly limit: number

  constructor(taskId: string, limit: number) {
    super('conflict', `The task already has ${limit} push notification configs; delete one first.`)
    this.name = 'TaskPushConfigLimitError'
    this.taskId = taskId
    this.limit = limit
  }
}

/** An upstream record that is not valid; `field` names the offending part. */
export class InvalidUpstreamError extends StoreError {
  readonly field: string

  constructor(field: string, message: string) {
    super('bad_request', message)
    this.name = 'InvalidUpstreamError'
    this.field = field
  }
}

/** The kind already has an upstream with this id (agent id or server name). */
export class UpstreamExistsError extends StoreError {
  readonly upstreamId: string

  constructor(kind: string, id: string) {
    super('conflict', `An upstream ${kind} "${id}" is already registered.`)
    this.name = 'UpstreamExistsError'
    this.upstreamId = id
  }
}
