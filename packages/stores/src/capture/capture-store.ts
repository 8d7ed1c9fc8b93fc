/**
 * Captured exchange payloads (conversation replay). The gateway appends the steps of the agent requests it was
 * told to capture, already redacted; the Conversation view reads them back per exchange. Structural interface:
 * a memory and a Postgres implementation, each run through `describeCaptureStoreBehaviour`.
 */

export const CAPTURE_STEPS = ['request', 'chunk', 'reply', 'error'] as const
export type CaptureStep = (typeof CAPTURE_STEPS)[number]

/** One step of an exchange as the gateway records it. */
export interface CaptureRecord {
  time: Date
  correlationId: string
  step: CaptureStep
  /** Order within the exchange: 0 for the request, then chunks, then the reply. */
  stepIndex: number
  /** The calling side: its agent id, else its client id. */
  caller: string
  agentId: string
  instanceId?: string | null
  /** The gateway node that saw the step. */
  node?: string | null
  traceId?: string | null
  /** Milliseconds since the request reached the gateway. */
  offsetMs: number
  /** Bytes of the payload's JSON text before redaction. */
  size?: number | null
  /** The payload's JSON text, redacted already; null when the step had none or it was too large. */
  payload: string | null
  /** JSON paths whose values were replaced. */
  redacted: readonly string[]
  /** The payload was over the capture limit and is not stored. */
  truncated?: boolean
}

/** A stored step. */
export interface CapturedStep extends Required<Omit<CaptureRecord, 'redacted'>> {
  id: string
  redacted: string[]
}

export interface CaptureQuery {
  /** One side's names (an agent id with its instances' client ids): captured exchanges between `a` and `b`. */
  a: readonly string[]
  b: readonly string[]
  /** Only exchanges whose request is older than this (paging back). */
  before?: Date
  /** Exchanges per page, 1-100. */
  limit: number
}

export interface CaptureStore {
  append(records: readonly CaptureRecord[]): Promise<void>
  /** The steps of one exchange, in step order. */
  exchange(correlationId: string): Promise<CapturedStep[]>
  /**
   * The newest `limit` exchanges between the two sides (caller on one side, agent on the other, either way),
   * newest first, each with its steps in step order.
   */
  exchanges(query: CaptureQuery): Promise<CapturedStep[][]>
  /** Deletes the steps recorded before `before` (retention); returns how many. */
  prune(before: Date): Promise<number>
}

export const MAX_CAPTURE_PAGE = 100

export function capturePageSize(limit: number): number {
  if (!Number.isFinite(limit)) return 20
  return Math.min(MAX_CAPTURE_PAGE, Math.max(1, Math.trunc(limit)))
}

/** Whether an exchange (caller → agent) is between the two sides, either way. */
export function betweenSides(
  row: { caller: string; agentId: string },
  a: readonly string[],
  b: readonly string[],
): boolean {
  return (
    (a.includes(row.caller) && b.includes(row.agentId)) || (b.includes(row.caller) && a.includes(row.agentId))
  )
}

/** The stored fields of a recorded step (every backend stores the same). */
export function captureFields(record: CaptureRecord): Omit<CapturedStep, 'id'> {
  return {
    time: record.time,
    correlationId: record.correlationId,
    step: record.step,
    stepIndex: record.stepIndex,
    caller: record.caller,
    agentId: record.agentId,
    instanceId: record.instanceId ?? null,
    node: record.node ?? null,
    traceId: record.traceId ?? null,
    offsetMs: record.offsetMs,
    size: record.size ?? null,
    payload: record.payload,
    redacted: [...record.redacted],
    truncated: record.truncated ?? false,
  }
}
