import type { AuditEvent, AuditKind, AuditOutcome, AuditPage } from '@parley/protocol'
import type { AuditEdgeCount, AuditEdgeFilter } from './audit-edges.js'

/** One interaction to record. `time` defaults to when `record` was called. */
export interface AuditRecord {
  kind: AuditKind
  outcome: AuditOutcome
  principal?: string | null
  clientId?: string | null
  connectionId?: string | null
  channel?: string | null
  target?: string | null
  /** Payload size in bytes, when the interaction carried one. */
  size?: number | null
  /** Short human-readable detail (an error code, a close code); never a secret. */
  detail?: string | null
  traceId?: string | null
  /** Ties a request to its reply, an introduction to its answer. */
  correlationId?: string | null
  /** Milliseconds the interaction took (rounded to a whole, non-negative number). */
  latencyMs?: number | null
  time?: Date
}

export interface AuditFilter {
  kind?: AuditKind
  principal?: string
  channel?: string
  target?: string
  correlationId?: string
  /** Only rows at or after this time (inclusive). */
  since?: Date
  /** Only rows before this time (exclusive), so consecutive windows never share a row. */
  until?: Date
  /** Opaque keyset cursor from a previous page's `nextCursor`. */
  cursor?: string
  /** Page size, 1-500; values outside are clamped. */
  limit: number
}

/**
 * The rows between `a` and `b`: (principal or clientId) is one and target is the other, either way. Each side
 * is one name or several (an agent id with the client ids of its instances): a row of any of them counts.
 */
export interface ConversationFilter {
  a: string | readonly string[]
  b: string | readonly string[]
  /** Only rows at or after this time (inclusive). */
  since?: Date
  /**
   * `oldest` (the default): oldest first, the cursor continues forward. `newest`: newest first, the cursor
   * continues backwards to older rows.
   */
  order?: 'oldest' | 'newest'
  /** Opaque keyset cursor from a previous conversation page's `nextCursor` (in the same order). */
  cursor?: string
  /** Page size, 1-500; values outside are clamped. */
  limit: number
}

/**
 * The audit trail. `record` never blocks the caller: rows are buffered and written in batches; the buffer
 * is bounded and rows beyond it are counted as dropped. Pages come newest first.
 */
export interface AuditLog {
  record(entry: AuditRecord): void
  /** Writes everything buffered so far. */
  flush(): Promise<void>
  query(filter: AuditFilter): Promise<AuditPage>
  /** The rows between two parties, oldest first unless `order` is `newest`. */
  conversation(filter: ConversationFilter): Promise<AuditPage>
  /** Rows dropped because the buffer was full or a batch failed for good. */
  readonly dropped: number
  /**
   * True while the rows waiting to be written fill half the buffer or more: the database is slower than the
   * traffic. The gateway then refuses new agent requests (retryable `unavailable`) until the writer has caught
   * up, rather than drop their rows. Absent: never behind (a log that does not buffer).
   */
  readonly behind?: boolean
  /** Flushes, then stops the batch timer. */
  close(): Promise<void>
  /**
   * Rows of traffic in a window grouped by who to whom (see audit-edges.ts): the who-talks-to-whom map. Absent
   * on a log that keeps nothing.
   */
  edges?(filter: AuditEdgeFilter): Promise<AuditEdgeCount[]>
  /** The hash chain its rows form (see audit-chain.ts); absent on a log that keeps nothing. */
  readonly chain?: AuditChainStore
}

export type { AuditEvent }

/** A stored row with its chain fields, as the verifier reads it (oldest first by `seq`). */
export interface ChainedAuditRow extends AuditEvent {
  seq: bigint
  prevHash: string
  hash: string
}

/** The last appended position and hash; seq 0 and GENESIS_HASH for an empty chain. */
export interface AuditChainHead {
  seq: bigint
  hash: string
}

/** Where the verifier reads the chain from: rows with `seq` above `afterSeq`, in seq order. */
export interface AuditChainSource {
  readChain(afterSeq: bigint, limit: number): Promise<ChainedAuditRow[]>
  /** The id of a row without a place in the chain that was written after the chain began, if any. */
  unchainedInsertion?(): Promise<string | undefined>
}

/** A log's chain: read it, know its head, and drop its oldest rows (retention, behind a checkpoint). */
export interface AuditChainStore extends AuditChainSource {
  head(): Promise<AuditChainHead>
  /** Deletes every row up to and including `throughSeq` (and unchained rows older than them); returns how many. */
  prune(throughSeq: bigint): Promise<number>
}
