import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core'

/**
 * The database schema: the gateway's own tables here, the interop tables (A2A tasks, upstream agents and MCP
 * servers) in `schema-interop.ts`, the captured exchange payloads in `schema-captures.ts`, both re-exported
 * below. drizzle-kit reads them through this file (drizzle.config.ts) to generate the migrations in
 * `../drizzle`; add later tables to one of them and run `pnpm db:generate`.
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
    /** Ties a request to its reply, an introduction to its answer. */
    correlationId: text('correlation_id'),
    /** Milliseconds the interaction took. */
    latencyMs: integer('latency_ms'),
    /**
     * Position in the hash chain (1, 2, 3, … no gaps) and the chain hashes (lowercase hex SHA-256; see
     * `src/audit/audit-chain.ts`). Null only on rows written before migration 0011, which are not chained.
     */
    seq: bigint('seq', { mode: 'bigint' }),
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (table) => [
    // Orders the chain (verify walks it) and refuses a second row at one position.
    uniqueIndex('audit_events_seq_idx').on(table.seq),
    // Every index ends in (time desc, id desc) so each filter can walk its keyset page in index order.
    index('audit_events_time_id_idx').on(table.time.desc(), table.id.desc()),
    index('audit_events_kind_time_idx').on(table.kind, table.time.desc(), table.id.desc()),
    index('audit_events_principal_time_idx')
      .on(table.principal, table.time.desc(), table.id.desc())
      .where(sql`${table.principal} is not null`),
    index('audit_events_channel_time_idx')
      .on(table.channel, table.time.desc(), table.id.desc())
      .where(sql`${table.channel} is not null`),
    index('audit_events_target_time_idx')
      .on(table.target, table.time.desc(), table.id.desc())
      .where(sql`${table.target} is not null`),
    index('audit_events_correlation_time_idx')
      .on(table.correlationId, table.time.desc(), table.id.desc())
      .where(sql`${table.correlationId} is not null`),
  ],
)

/**
 * The audit chain's head: the last appended position and hash. Each batch's transaction locks this one row
 * (id 1), so appends from every gateway node on one database form one chain.
 */
export const auditChainHead = pgTable('audit_chain_head', {
  id: integer('id').primaryKey(),
  seq: bigint('seq', { mode: 'bigint' }).notNull(),
  hash: text('hash').notNull(),
})

export type AuditEventRow = typeof auditEvents.$inferSelect
export type NewAuditEventRow = typeof auditEvents.$inferInsert

// Delivery: times are epoch milliseconds in bigint columns, the unit the store API speaks.

/** One row per channel: its epoch and the last offset handed out (row-locked by each publish). */
export const channelStreams = pgTable('channel_streams', {
  channel: text('channel').primaryKey(),
  epoch: text('epoch').notNull(),
  topOffset: bigint('top_offset', { mode: 'number' }).notNull(),
})

/** Retained publications; trimmed per channel by size and TTL. */
export const channelMessages = pgTable(
  'channel_messages',
  {
    channel: text('channel').notNull(),
    offset: bigint('offset', { mode: 'number' }).notNull(),
    messageId: text('message_id').notNull(),
    source: text('source').notNull(),
    data: jsonb('data'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.channel, table.offset] })],
)

/**
 * Idempotency keys of publishes (scope: the channel) and sends (scope: source and recipient), with the
 * first result, returned to repeats until `expires_at`.
 */
export const publishKeys = pgTable(
  'publish_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    /** The first StoredPublication or StoredDelivery, as returned to its caller. */
    result: jsonb('result'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.scope, table.key] }),
    index('publish_keys_expires_at_idx').on(table.expiresAt),
  ],
)

export const durableSubscriptions = pgTable(
  'durable_subscriptions',
  {
    recipient: text('recipient').notNull(),
    channel: text('channel').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.recipient, table.channel] }),
    index('durable_subscriptions_channel_idx').on(table.channel),
  ],
)

/** One message to one recipient, from creation until acked or expired; dead letters stay with state 'dead'. */
export const deliveries = pgTable(
  'deliveries',
  {
    id: text('id').primaryKey(),
    /** Insertion order, the last tie-breaker of the due order. */
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    messageId: text('message_id').notNull(),
    kind: text('kind').notNull(),
    recipient: text('recipient').notNull(),
    source: text('source').notNull(),
    channel: text('channel'),
    offset: bigint('offset', { mode: 'number' }),
    epoch: text('epoch'),
    data: jsonb('data'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    failures: integer('failures').notNull().default(0),
    nextAttemptAt: bigint('next_attempt_at', { mode: 'number' }).notNull(),
    state: text('state').notNull(),
    receipt: boolean('receipt').notNull().default(false),
    lastError: text('last_error'),
    deadReason: text('dead_reason'),
    deadAt: bigint('dead_at', { mode: 'number' }),
    /** The sending agent and trace id of an `agent_send` message: every redelivery carries them. */
    fromAgent: text('from_agent'),
    traceId: text('trace_id'),
    /** Requeue history of a dead letter: how often and when last, and the attempts it had by then. */
    requeues: integer('requeues').notNull().default(0),
    requeuedAt: bigint('requeued_at', { mode: 'number' }),
    attemptsBeforeRequeue: integer('attempts_before_requeue').notNull().default(0),
  },
  (table) => [
    index('deliveries_due_idx').on(table.recipient, table.state, table.nextAttemptAt),
    // Byte order ("C") for ids, so every server orders (and pages) dead letters the same way.
    index('deliveries_dead_idx')
      .on(table.deadAt.desc(), sql`${table.id} collate "C" desc`)
      .where(sql`${table.state} = 'dead'`),
    index('deliveries_expiry_idx').on(table.expiresAt).where(sql`${table.state} <> 'dead'`),
  ],
)

export type ChannelMessageRow = typeof channelMessages.$inferSelect
export type DeliveryRow = typeof deliveries.$inferSelect
export type NewDeliveryRow = typeof deliveries.$inferInsert

// Identity: times are epoch milliseconds in bigint columns, as in the store API. Secrets are never stored.

/** API tokens. `secret_hash` is the SHA-256 (hex) of the whole `pk_<id>_<random>` secret. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    scopes: jsonb('scopes').$type<string[]>().notNull(),
    subject: text('subject'),
    secretHash: text('secret_hash').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }),
    revokedAt: bigint('revoked_at', { mode: 'number' }),
    lastUsedAt: bigint('last_used_at', { mode: 'number' }),
  },
  (table) => [index('api_tokens_created_at_idx').on(table.createdAt.desc(), table.id.desc())],
)

/**
 * Chat-user pairing requests: one per (channel type, sender). The code is not stored: it is derived from
 * the id with the server secret; `code_hash` (an HMAC of it) finds the request a code belongs to.
 */
export const pairingRequests = pgTable(
  'pairing_requests',
  {
    id: text('id').primaryKey(),
    /** Insertion order, the tie-breaker of "oldest first". */
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    channelType: text('channel_type').notNull(),
    channelId: text('channel_id').notNull(),
    displayName: text('display_name'),
    codeHash: text('code_hash').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
    failedAttempts: integer('failed_attempts').notNull().default(0),
  },
  (table) => [
    uniqueIndex('pairing_requests_sender_idx').on(table.channelType, table.channelId),
    uniqueIndex('pairing_requests_code_idx').on(table.channelType, table.codeHash),
    index('pairing_requests_created_idx').on(table.createdAt, table.seq),
  ],
)

export const pairedChannels = pgTable(
  'paired_channels',
  {
    channelType: text('channel_type').notNull(),
    channelId: text('channel_id').notNull(),
    displayName: text('display_name'),
    pairedAt: bigint('paired_at', { mode: 'number' }).notNull(),
    approvedBy: text('approved_by'),
  },
  (table) => [primaryKey({ columns: [table.channelType, table.channelId] })],
)

/** Device pairing requests; finished ones are deleted an hour after their expiry. */
export const deviceRequests = pgTable(
  'device_requests',
  {
    id: text('id').primaryKey(),
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    deviceName: text('device_name').notNull(),
    platform: text('platform'),
    remoteAddress: text('remote_address'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
    status: text('status').notNull(),
    tokenId: text('token_id'),
    /** did:key and raw public key of an agent identity to register on approval. */
    identity: text('identity'),
    publicKey: text('public_key'),
  },
  (table) => [
    index('device_requests_pending_idx')
      .on(table.createdAt, table.seq)
      .where(sql`${table.status} = 'pending'`),
    index('device_requests_expires_at_idx').on(table.expiresAt),
  ],
)

/** Who each session is bound to; written once per session id. */
export const sessionBindings = pgTable('session_bindings', {
  sessionId: text('session_id').primaryKey(),
  principal: text('principal').notNull(),
  role: text('role').notNull(),
  metadata: jsonb('metadata').$type<Record<string, unknown>>(),
  boundAt: timestamp('bound_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
})

/** Registered agent keys; `id` is the did:key of `public_key` (checked before insert). */
export const agentKeys = pgTable(
  'agent_keys',
  {
    id: text('id').primaryKey(),
    publicKey: text('public_key').notNull(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    scopes: jsonb('scopes').$type<string[]>().notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    revokedAt: bigint('revoked_at', { mode: 'number' }),
  },
  (table) => [index('agent_keys_created_at_idx').on(table.createdAt.desc(), table.id.desc())],
)

/**
 * Dashboard sessions: an operator's login, opened with an admin credential. The browser's cookie holds the
 * secret; only its SHA-256 is stored, and a session ends at `expires_at` or when revoked (logout).
 */
export const dashboardSessions = pgTable(
  'dashboard_sessions',
  {
    id: text('id').primaryKey(),
    secretHash: text('secret_hash').notNull(),
    principal: text('principal').notNull(),
    /** The API token the session was opened with, when it was one: revoking the token ends the session. */
    credentialId: text('credential_id'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    lastSeenAt: bigint('last_seen_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
    revokedAt: bigint('revoked_at', { mode: 'number' }),
    userAgent: text('user_agent'),
    address: text('address'),
  },
  (table) => [
    uniqueIndex('dashboard_sessions_secret_hash_idx').on(table.secretHash),
    index('dashboard_sessions_expires_at_idx').on(table.expiresAt),
  ],
)

export type ApiTokenRow = typeof apiTokens.$inferSelect
export type PairingRequestRow = typeof pairingRequests.$inferSelect
export type DeviceRequestRow = typeof deviceRequests.$inferSelect
export type AgentKeyRow = typeof agentKeys.$inferSelect
export type DashboardSessionRow = typeof dashboardSessions.$inferSelect

// Agents: policy rules and shared state. Times are epoch milliseconds in bigint columns, as in the store API.

/** Policy rules; nodes read them all and evaluate in memory (see `evaluatePolicy`). */
export const policyRules = pgTable('policy_rules', {
  id: text('id').primaryKey(),
  description: text('description'),
  effect: text('effect').notNull(),
  actions: jsonb('actions').$type<string[]>().notNull(),
  subjectKind: text('subject_kind').notNull(),
  subjectPattern: text('subject_pattern').notNull(),
  targetKind: text('target_kind').notNull(),
  targetPattern: text('target_pattern').notNull(),
  priority: integer('priority').notNull().default(0),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
})

/**
 * One row (`id = 'global'`) once the policy changed: the default effect and the version. Every change
 * bumps `version` in its own transaction, so the row lock orders concurrent changes on every node.
 */
export const policySettings = pgTable('policy_settings', {
  id: text('id').primaryKey(),
  defaultEffect: text('default_effect').notNull(),
  version: bigint('version', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
})

/**
 * The current version of each state key. A deleted key keeps its row (`deleted`, `value` null) so its
 * versions keep increasing when it is written again: a stale `expectedVersion` can never match a new life.
 */
export const stateEntries = pgTable(
  'state_entries',
  {
    namespace: text('namespace').notNull(),
    key: text('key').notNull(),
    /** The value's JSON text, exactly as serialised (not jsonb: kept verbatim, never queried inside). */
    value: text('value'),
    version: bigint('version', { mode: 'number' }).notNull(),
    deleted: boolean('deleted').notNull().default(false),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    updatedBy: text('updated_by').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.namespace, table.key] }),
    // `list` pages live keys in byte order ("C"), the same on every server whatever its default collation.
    index('state_entries_list_idx')
      .on(table.namespace, sql`${table.key} collate "C"`)
      .where(sql`not ${table.deleted}`),
  ],
)

/** Every version of each state key (deletions included), trimmed to the newest `maxHistoryPerKey`. */
export const stateHistory = pgTable(
  'state_history',
  {
    namespace: text('namespace').notNull(),
    key: text('key').notNull(),
    version: bigint('version', { mode: 'number' }).notNull(),
    value: text('value'),
    deleted: boolean('deleted').notNull().default(false),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    updatedBy: text('updated_by').notNull(),
  },
  (table) => [primaryKey({ columns: [table.namespace, table.key, table.version] })],
)

/**
 * Accepted introductions. A grant links `from_key` and `to_key` (agent id, else client id) in both
 * directions until `revoked_at` is set; rows are kept after revocation for the audit trail.
 */
export const grants = pgTable(
  'grants',
  {
    id: text('id').primaryKey(),
    fromPrincipal: text('from_principal').notNull(),
    fromClientId: text('from_client_id').notNull(),
    fromAgentId: text('from_agent_id'),
    fromKey: text('from_key').notNull(),
    toPrincipal: text('to_principal').notNull(),
    toClientId: text('to_client_id').notNull(),
    toAgentId: text('to_agent_id'),
    toKey: text('to_key').notNull(),
    reason: text('reason'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    revokedAt: bigint('revoked_at', { mode: 'number' }),
    revokedBy: text('revoked_by'),
  },
  (table) => [
    index('grants_live_keys_idx').on(table.fromKey, table.toKey).where(sql`${table.revokedAt} is null`),
    index('grants_created_idx').on(table.createdAt.desc(), table.id.desc()),
  ],
)

export type PolicyRuleRow = typeof policyRules.$inferSelect
export type GrantRow = typeof grants.$inferSelect
export type StateEntryRow = typeof stateEntries.$inferSelect
export type StateHistoryRow = typeof stateHistory.$inferSelect

export * from './schema-captures.js'
export * from './schema-interop.js'
