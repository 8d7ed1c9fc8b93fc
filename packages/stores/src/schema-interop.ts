import { sql } from 'drizzle-orm'
import { bigint, boolean, index, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'

/** The interop tables: A2A tasks (the TaskStore) and the registered upstream agents and MCP servers. */

// A2A tasks (the TaskStore): times are epoch milliseconds in bigint columns; JSON is kept as its exact text
// (not jsonb: verbatim, and never queried inside).

/** One row per task: identity, owner, state and the latest snapshot. Its row lock orders appends. */
export const a2aTasks = pgTable(
  'a2a_tasks',
  {
    id: text('id').primaryKey(),
    contextId: text('context_id').notNull(),
    agentId: text('agent_id').notNull(),
    owner: text('owner').notNull(),
    state: text('state').notNull(),
    status: text('status'),
    /** Bytes of JSON of the artifacts its events carried; the artifacts themselves are folded from the events. */
    artifactsBytes: bigint('artifacts_bytes', { mode: 'number' }).notNull(),
    metadata: text('metadata'),
    lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (table) => [
    // `list` walks an owner's tasks newest change first; ids in byte order ("C") as on every store.
    index('a2a_tasks_owner_updated_idx').on(
      table.owner,
      table.updatedAt.desc(),
      sql`${table.id} collate "C" desc`,
    ),
    // Retention finds old terminal tasks; listStale old unfinished ones.
    index('a2a_tasks_terminal_updated_idx')
      .on(table.updatedAt)
      .where(sql`${table.state} in ('completed', 'canceled', 'failed', 'rejected')`),
    index('a2a_tasks_unfinished_updated_idx')
      .on(table.updatedAt, sql`${table.id} collate "C"`)
      .where(sql`${table.state} not in ('completed', 'canceled', 'failed', 'rejected')`),
  ],
)

/** Each task's event log: sequence numbers 1, 2, 3, … per task. */
export const a2aTaskEvents = pgTable(
  'a2a_task_events',
  {
    taskId: text('task_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    kind: text('kind').notNull(),
    state: text('state'),
    payload: text('payload').notNull(),
    /** A message event, or a status event whose status carries a message: what `history` reads. */
    inHistory: boolean('in_history').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.taskId, table.seq] }),
    // `history` reads a task's newest history messages; a read of the task folds its artifact events.
    index('a2a_task_events_history_idx').on(table.taskId, table.seq).where(sql`${table.inHistory}`),
    index('a2a_task_events_artifacts_idx').on(table.taskId, table.seq).where(sql`${table.kind} = 'artifact'`),
  ],
)

/** Webhooks of tasks; `token` and `auth_credentials` are AES-256-GCM ciphertexts, never plaintext. */
export const a2aTaskPushConfigs = pgTable(
  'a2a_task_push_configs',
  {
    taskId: text('task_id').notNull(),
    id: text('id').notNull(),
    url: text('url').notNull(),
    token: text('token'),
    authScheme: text('auth_scheme'),
    authCredentials: text('auth_credentials'),
    protocolVersion: text('protocol_version'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.taskId, table.id] })],
)

export type A2aTaskRow = typeof a2aTasks.$inferSelect
export type A2aTaskEventRow = typeof a2aTaskEvents.$inferSelect
export type A2aTaskPushConfigRow = typeof a2aTaskPushConfigs.$inferSelect

// Upstreams (the UpstreamStore): external A2A agents and MCP servers registered by an operator.

/** One row per upstream; `credentials` is sealed by the gateway (never clear text here). */
export const upstreams = pgTable(
  'upstreams',
  {
    kind: text('kind').notNull(),
    id: text('id').notNull(),
    urls: jsonb('urls').$type<string[]>().notNull(),
    credentials: text('credentials'),
    credentialsKind: text('credentials_kind').notNull(),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.kind, table.id] })],
)

/** One row (`id = 'global'`) once an upstream changed: the version every change bumps, under its row lock. */
export const upstreamVersions = pgTable('upstream_versions', {
  id: text('id').primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull(),
})

export type UpstreamRow = typeof upstreams.$inferSelect
