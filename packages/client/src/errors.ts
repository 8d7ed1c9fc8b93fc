import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@parley/protocol'

export interface ParleyErrorInit {
  code: ErrorCode
  message: string
  /** Defaults to the protocol table's flag for `code`. */
  retryable?: boolean
  retryAfterMs?: number
  /** Machine-readable context from the error frame (`rule`, `currentVersion`, an agent's `code`). */
  details?: Record<string, unknown>
  /** The underlying failure, e.g. what a message handler threw. */
  cause?: unknown
}

/**
 * Every failure the client reports: a server `error` frame, a lost connection, a refused handshake.
 * `code` is one of the protocol's error codes, so callers can branch on it the same way for every source.
 * Agent error codes come as subclasses (`NoRouteError`, `PolicyDeniedError`, ...) so callers may also use
 * `instanceof`.
 */
export class ParleyError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined
  readonly details: Record<string, unknown> | undefined

  constructor(init: ParleyErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'ParleyError'
    this.code = init.code
    this.retryable = init.retryable ?? ERROR_CODES[init.code].retryable
    this.retryAfterMs = init.retryAfterMs
    this.details = init.details
  }

  /** Builds the error a server `error` frame (or an HTTP error body) describes: a subclass for agent codes. */
  static fromBody(body: ErrorBody): ParleyError {
    const init: ParleyErrorInit = { code: body.code, message: body.message, retryable: body.retryable }
    if (body.retryAfterMs !== undefined) init.retryAfterMs = body.retryAfterMs
    if (body.details !== undefined) init.details = body.details
    const Subclass = SUBCLASSES[body.code]
    return Subclass === undefined ? new ParleyError(init) : new Subclass(init)
  }
}

/**
 * A request, `waitFor` or handshake that got no answer in time. It is a `ParleyError` with code `timeout`
 * so one `catch (e instanceof ParleyError)` handles every failure, and `name === 'TimeoutError'` so it can
 * be told apart without importing the class.
 */
export class TimeoutError extends ParleyError {
  constructor(message: string, init: Partial<ParleyErrorInit> = {}) {
    super({ ...init, code: 'timeout', message, retryable: init.retryable ?? true })
    this.name = 'TimeoutError'
  }
}

/** An agent request (or introduction) got no answer in time: the gateway's `timeout`, or the client's own timer. */
export class RequestTimeoutError extends TimeoutError {
  constructor(init: Omit<ParleyErrorInit, 'code'>) {
    super(init.message, init)
    this.name = 'RequestTimeoutError'
  }
}

/** No agent (or peer) matches the target, or none is online. */
export class NoRouteError extends ParleyError {
  constructor(init: Omit<ParleyErrorInit, 'code'>) {
    super({ ...init, code: 'no_route' })
    this.name = 'NoRouteError'
  }
}

/** A policy rule (or the default effect) denies this; `rule` names the deciding rule when one matched. */
export class PolicyDeniedError extends ParleyError {
  readonly rule: string | undefined
  constructor(init: Omit<ParleyErrorInit, 'code'>) {
    super({ ...init, code: 'policy_denied' })
    this.name = 'PolicyDeniedError'
    const rule = init.details?.rule
    this.rule = typeof rule === 'string' ? rule : rule === undefined ? undefined : String(rule)
  }
}

/** A policy requires an accepted introduction (`introduce`) first. */
export class IntroductionRequiredError extends ParleyError {
  constructor(init: Omit<ParleyErrorInit, 'code'>) {
    super({ ...init, code: 'introduction_required' })
    this.name = 'IntroductionRequiredError'
  }
}

/** The agent (or its policy) rejected the introduction. */
export class IntroductionRejectedError extends ParleyError {
  constructor(init: Omit<ParleyErrorInit, 'code'>) {
    super({ ...init, code: 'introduction_rejected' })
    this.name = 'IntroductionRejectedError'
  }
}

/** The agent answered with an error: `agentCode` and `agentMessage` are its own. */
export class AgentError extends ParleyError {
  readonly agentCode: string
  readonly agentMessage: string
  constructor(init: Omit<ParleyErrorInit, 'code'>) {
    super({ ...init, code: 'agent_error' })
    this.name = 'AgentError'
    const { code, message } = init.details ?? {}
    this.agentCode = typeof code === 'string' ? code : 'agent_error'
    this.agentMessage = typeof message === 'string' ? message : init.message
  }
}

/** The agent instance went away before answering (and the request was not idempotent). */
export class AgentUnavailableError extends ParleyError {
  constructor(init: Omit<ParleyErrorInit, 'code'>) {
    super({ ...init, code: 'agent_unavailable' })
    this.name = 'AgentUnavailableError'
  }
}

/** A compare-and-set write failed: the key is at `currentVersion` (0 when absent). */
export class VersionConflictError extends ParleyError {
  readonly currentVersion: number | undefined
  constructor(init: Omit<ParleyErrorInit, 'code'>) {
    super({ ...init, code: 'version_conflict' })
    this.name = 'VersionConflictError'
    const version = init.details?.currentVersion
    this.currentVersion = typeof version === 'number' ? version : undefined
  }
}

/** A stream sender went beyond the credit it was granted. */
export class FlowControlError extends ParleyError {
  constructor(init: Omit<ParleyErrorInit, 'code'>) {
    super({ ...init, code: 'flow_control' })
    this.name = 'FlowControlError'
  }
}

/**
 * Work given up before it finished: a stream the other side aborted (`stream_abort`, `peer_gone` when it
 * disconnected), a stream or request aborted here (`abort()`, an `AbortSignal`), or one cut by a lost
 * connection. `name` is `'AbortError'` like the DOM's; the protocol has no code of its own for it, so `code` is
 * `unavailable` (not retryable: retrying is the caller's decision). `reason` says why.
 */
export class AbortedError extends ParleyError {
  readonly reason: string
  constructor(reason: string, message = `aborted: ${reason}`) {
    super({ code: 'unavailable', message, retryable: false })
    this.name = 'AbortError'
    this.reason = reason
  }
}

/** A readable reason out of an `AbortSignal.reason` (an Error, a string or anything). */
export function reasonOf(reason: unknown): string {
  if (reason instanceof Error) return reason.message
  if (typeof reason === 'string') return reason
  return reason === undefined ? 'aborted' : String(reason)
}

type Subclass = new (init: Omit<ParleyErrorInit, 'code'>) => ParleyError

const SUBCLASSES: Partial<Record<ErrorCode, Subclass>> = {
  timeout: RequestTimeoutError,
  no_route: NoRouteError,
  policy_denied: PolicyDeniedError,
  introduction_required: IntroductionRequiredError,
  introduction_rejected: IntroductionRejectedError,
  agent_error: AgentError,
  agent_unavailable: AgentUnavailableError,
  version_conflict: VersionConflictError,
  flow_control: FlowControlError,
}
