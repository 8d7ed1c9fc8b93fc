import { sql } from 'drizzle-orm'
import { bigint, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

/**
 * The whole database schema, one place for every table. drizzle-kit reads this file to generate the
 * migrations in `../drizzle`; add later tables here and run `pnpm db:generate`.
 */

/** One row per interaction seen by the gateway. Pages are read newest first by (time, id). */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    time: timestamp('time', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    kind: text('kind').notNull(),
    principal: text('principal'),
    clientId: text('client_id'),
    connectionId: text('connection_id'),
    channel: text('channel'),
    target: text('target'),
    size: integer('size'),
    outcome: text('outcome').notNull(),
    detail: text('detail'),
    traceId: text('trace_id'),
  },
  (table) => [
    // Every index ends in (time desc, id desc) so each filter can walk its keyset page in index order.
    index('audit_events_time_id_idx').on(table.time.desc(), table.id.desc()),
    index('audit_events_kind_time_idx').on(table.kind, table.time.desc(), table.id.desc()),
    index('audit_events_principal_time_idx')
      .on(table.principal, table.time.desc(), table.id.desc())
      .where(sql`${table.principal} is not null`),
    index('audit_events_channel_time_idx')
      .on(table.channel, table.time.desc(), table.id.desc())
      .where(sql`${table.channel} is not null`),
  ],
)

export type AuditEventRow = typeof auditEvents.$inferSelect
export type NewAuditEventRow = typeof auditEvents.$inferInsert
