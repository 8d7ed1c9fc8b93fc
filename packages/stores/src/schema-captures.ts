import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

/**
 * Captured exchange payloads (conversation replay): one row per step of an agent request (the request, each
 * stream chunk, the reply or its error), written only for agents or policy rules the operator switched capture
 * on for, with the configured fields already redacted. Kept apart from `audit_events`: the audit chain hashes
 * its rows, and payloads are bulky and kept for a shorter time.
 */
export const exchangeCaptures = pgTable(
  'exchange_captures',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    time: timestamp('time', { withTimezone: true, mode: 'date' }).notNull(),
    /** The request's correlation id: every step of one exchange shares it. */
    correlationId: text('correlation_id').notNull(),
    /** `request`, `chunk`, `reply` or `error`. */
    step: text('step').notNull(),
    /** Order of the step within its exchange (0 for the request). */
    stepIndex: integer('step_index').notNull(),
    /** The calling side: its agent id, else its client id. */
    caller: text('caller').notNull(),
    agentId: text('agent_id').notNull(),
    instanceId: text('instance_id'),
    node: text('node'),
    traceId: text('trace_id'),
    /** Milliseconds since the request reached the gateway. */
    offsetMs: integer('offset_ms').notNull(),
    /** Bytes of the payload's JSON text before redaction. */
    size: integer('size'),
    /** The payload's JSON text after redaction; null when the step had none or it was cut (too large). */
    payload: text('payload'),
    /** JSON paths whose values were replaced before the row was stored. */
    redacted: jsonb('redacted').$type<string[]>().notNull(),
    /** True when the payload was larger than the capture limit and was not stored. */
    truncated: boolean('truncated').notNull().default(false),
  },
  (table) => [
    index('exchange_captures_correlation_idx').on(table.correlationId, table.stepIndex),
    index('exchange_captures_agent_time_idx').on(table.agentId, table.time.desc()),
    index('exchange_captures_caller_time_idx').on(table.caller, table.time.desc()),
    index('exchange_captures_time_idx').on(table.time),
  ],
)

export type ExchangeCaptureRow = typeof exchangeCaptures.$inferSelect
