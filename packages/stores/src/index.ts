export {
  type AuditChainHead,
  type AuditChainSource,
  type AuditChainStore,
  type ChainedAuditRow,
  canonicalAuditRow,
  chainHash,
  GENESIS_HASH,
  sha256Hex,
} from './audit/audit-chain.js'
export {
  type AuditCheckpoint,
  AuditCheckpointError,
  auditKeyId,
  checkAuditCheckpoint,
  signAuditCheckpoint,
} from './audit/audit-checkpoint.js'
export { type AuditCursor, decodeAuditCursor, encodeAuditCursor } from './audit/audit-cursor.js'
export {
  type AuditEdgeCount,
  type AuditEdgeFilter,
  EDGE_KINDS,
  type EdgeKind,
  MAX_EDGE_GROUPS,
} from './audit/audit-edges.js'
export type {
  AuditEvent,
  AuditFilter,
  AuditLog,
  AuditRecord,
  ConversationFilter,
} from './audit/audit-log.js'
export { MAX_AUDIT_PAGE_SIZE, MAX_AUDIT_TEXT_LENGTH } from './audit/audit-normalize.js'
export {
  type AuditChainProblem,
  type AuditChainReport,
  type TrustedCheckpoint,
  type VerifyAuditChainOptions,
  verifyAuditChain,
} from './audit/audit-verify.js'
export { createDisabledAuditLog } from './audit/disabled-audit-log.js'
export { createMemoryAuditLog, type MemoryAuditLogOptions } from './audit/memory-audit-log.js'
export { createPostgresAuditChain } from './audit/postgres-audit-chain.js'
export {
  createPostgresAuditLog,
  type PostgresAuditLog,
  type PostgresAuditLogOptions,
} from './audit/postgres-audit-log.js'
export {
  CAPTURE_STEPS,
  type CapturedStep,
  type CaptureQuery,
  type CaptureRecord,
  type CaptureStep,
  type CaptureStore,
  MAX_CAPTURE_PAGE,
} from './capture/capture-store.js'
export { createMemoryCaptureStore, type MemoryCaptureStoreOptions } from './capture/memory-capture-store.js'
export { createPostgresCaptureStore } from './capture/postgres-capture-store.js'
export { DATA_DIR_LOCK_FILE } from './data-dir-lock.js'
export {
  createEmbeddedTemplate,
  DEFAULT_DATA_DIR,
  type OpenDatabaseOptions,
  openDatabase,
  type ParleyDatabase,
  type ParleyDb,
  type ParleyExecutor,
  type ParleySchema,
  type ParleyTransaction,
} from './database.js'
export {
  type DeadLetterCursor,
  decodeDeadLetterCursor,
  encodeDeadLetterCursor,
} from './delivery/dead-letter-cursor.js'
export { MAX_DEAD_LETTER_PAGE_SIZE } from './delivery/dead-letters.js'
export { createMemoryDeliveryBackend } from './delivery/memory-delivery-backend.js'
export { createPostgresDeliveryBackend } from './delivery/postgres-delivery-backend.js'
export {
  createRedisDeliveryBackend,
  type RedisDeliveryBackendOptions,
} from './delivery/redis-delivery-backend.js'
export type {
  DeadLetterFilter,
  DeadLetterListQuery,
  DeliveryBackend,
  DeliveryBackendOptions,
  DeliveryCounts,
  DeliveryState,
  DeliveryStore,
  DurableSubscription,
  FailOutcome,
  HistoryStore,
  PublishInput,
  PublishOutcome,
  ReadSinceResult,
  RetentionPolicy,
  SendInput,
  SendOutcome,
  StoredDelivery,
  StoredPublication,
  StreamPosition,
} from './delivery/types.js'
export { EmbeddedDatabaseError } from './embedded/embedded-database.js'
export {
  DataDirLockedError,
  InvalidAgentKeyError,
  InvalidCursorError,
  InvalidGrantError,
  InvalidPolicyRuleError,
  InvalidStateEntryError,
  InvalidTaskError,
  InvalidUpstreamError,
  PairingLimitError,
  PolicyRuleExistsError,
  redactUrl,
  SessionBindingConflictError,
  StateValueTooLargeError,
  StateVersionConflictError,
  StoreError,
  TaskExistsError,
  TaskNotFoundError,
  TaskPayloadTooLargeError,
  TaskPushConfigLimitError,
  TaskTerminalError,
  UnsupportedDatabaseUrlError,
  UpstreamExistsError,
} from './errors.js'
export { MAX_GRANT_REASON_LENGTH } from './grant/grant-rules.js'
export { createMemoryGrantStore } from './grant/memory-grant-store.js'
export { createPostgresGrantStore } from './grant/postgres-grant-store.js'
export {
  type CreateGrantInput,
  type Grant,
  type GrantListOptions,
  type GrantParty,
  type GrantStore,
  grantKey,
} from './grant/types.js'
export {
  isDashboardSessionSecret,
  LAST_SEEN_RESOLUTION_MS,
} from './identity/dashboard-session-secrets.js'
export { DEFAULT_DEVICE_REQUEST_TTL_MS } from './identity/device-requests.js'
export { checkAgentKey, didKeyFromPublicKey } from './identity/did-key.js'
export { createMemoryAgentKeyStore } from './identity/memory-agent-key-store.js'
export { createMemoryDashboardSessionStore } from './identity/memory-dashboard-session-store.js'
export { createMemoryDevicePairingStore } from './identity/memory-device-pairing-store.js'
export { createMemoryPairingStore } from './identity/memory-pairing-store.js'
export { createMemorySessionBindingStore } from './identity/memory-session-binding-store.js'
export { createMemoryTokenStore } from './identity/memory-token-store.js'
export {
  DEFAULT_MAX_FAILED_ATTEMPTS,
  DEFAULT_MAX_PENDING_PER_CHANNEL_TYPE,
  DEFAULT_PAIRING_CODE_TTL_MS,
  PAIRING_CODE_ALPHABET,
  PAIRING_CODE_LENGTH,
} from './identity/pairing-codes.js'
export { createPostgresAgentKeyStore } from './identity/postgres-agent-key-store.js'
export { createPostgresDashboardSessionStore } from './identity/postgres-dashboard-session-store.js'
export { createPostgresDevicePairingStore } from './identity/postgres-device-pairing-store.js'
export { createPostgresPairingStore } from './identity/postgres-pairing-store.js'
export { createPostgresSessionBindingStore } from './identity/postgres-session-binding-store.js'
export { createPostgresTokenStore } from './identity/postgres-token-store.js'
export { tokenIdOfSecret } from './identity/token-secrets.js'
export type {
  AgentKey,
  AgentKeyStore,
  CreateDashboardSessionInput,
  CreatedDashboardSession,
  CreatedToken,
  CreateTokenInput,
  DashboardSessionRecord,
  DashboardSessionStore,
  DevicePairingStore,
  DeviceRequest,
  DeviceRequestStatus,
  GenerateCodeOptions,
  PairedChannel,
  PairingResolution,
  PairingStore,
  PairingStoreOptions,
  PendingPairing,
  SessionBindingStore,
  SessionPrincipal,
  TokenRecord,
  TokenStore,
} from './identity/types.js'
export {
  defaultMigrationsFolder,
  MIGRATION_LOCK_KEY,
  type MigrationStatus,
  migrateDatabase,
  migrationStatus,
} from './migrate.js'
export {
  comparePolicyRules,
  evaluatePolicy,
  matchesPattern,
  policyRuleMatches,
} from './policy/evaluate-policy.js'
export { createMemoryPolicyStore } from './policy/memory-policy-store.js'
export {
  MAX_POLICY_DESCRIPTION_LENGTH,
  MAX_POLICY_ID_LENGTH,
  MAX_POLICY_PATTERN_LENGTH,
} from './policy/policy-rules.js'
export { createPostgresPolicyStore } from './policy/postgres-policy-store.js'
export {
  type CreatePolicyRuleInput,
  POLICY_ACTIONS,
  POLICY_DEFAULT_EFFECTS,
  POLICY_EFFECTS,
  POLICY_SUBJECT_KINDS,
  POLICY_TARGET_KINDS,
  type PolicyAction,
  type PolicyDecision,
  type PolicyDefaultEffect,
  type PolicyEffect,
  type PolicyRequest,
  type PolicyRule,
  type PolicyRuleAction,
  type PolicySnapshot,
  type PolicyStore,
  type PolicyStoreOptions,
  type PolicySubject,
  type PolicySubjectKind,
  type PolicyTarget,
  type PolicyTargetKind,
  type UpdatePolicyRuleInput,
} from './policy/types.js'
export { loadIoredis } from './redis-connection.js'
export * as schema from './schema.js'
export { type AuditEventRow, auditChainHead, auditEvents, type NewAuditEventRow } from './schema.js'
export { createMemoryStateStore } from './state/memory-state-store.js'
export { createPostgresStateStore } from './state/postgres-state-store.js'
export {
  DEFAULT_MAX_STATE_HISTORY_PER_KEY,
  DEFAULT_MAX_STATE_VALUE_BYTES,
  MAX_STATE_LIST_PAGE,
  MAX_STATE_NAME_LENGTH,
} from './state/state-entries.js'
export type {
  StateEntry,
  StateListOptions,
  StateStore,
  StateStoreOptions,
  StateValue,
  StateVersion,
  StateWriteOptions,
} from './state/types.js'
export { createMemoryTaskStore } from './tasks/memory-task-store.js'
export { createPostgresTaskStore } from './tasks/postgres-task-store.js'
export {
  createRedisTaskStore,
  type RedisTaskStoreOptions,
} from './tasks/redis-task-store.js'
export {
  checkPushConfigInput,
  DEFAULT_MAX_PUSH_CONFIGS_PER_TASK,
  MAX_PUSH_URL_LENGTH,
  newPushConfigId,
} from './tasks/task-push-configs.js'
export {
  DEFAULT_MAX_TASK_ARTIFACTS_BYTES,
  DEFAULT_MAX_TASK_EVENT_BYTES,
  DEFAULT_TASK_PAGE_SIZE,
  isTerminalTaskState,
  MAX_TASK_EVENTS_PAGE,
  MAX_TASK_HISTORY,
  MAX_TASK_NAME_LENGTH,
  MAX_TASK_PAGE_SIZE,
} from './tasks/task-records.js'
export {
  type AppendedTaskEvent,
  type CreateTaskInput,
  TASK_EVENT_KINDS,
  TASK_STATES,
  type TaskEvent,
  type TaskEventInput,
  type TaskEventKind,
  type TaskEventsQuery,
  type TaskJson,
  type TaskListQuery,
  type TaskPage,
  type TaskPushAuthentication,
  type TaskPushConfig,
  type TaskPushConfigInput,
  type TaskPushTarget,
  type TaskRecord,
  type TaskScope,
  type TaskState,
  type TaskStore,
  type TaskStoreOptions,
  type TaskSummary,
  TERMINAL_TASK_STATES,
  type TerminalTaskState,
} from './tasks/types.js'
export { createMemoryUpstreamStore } from './upstreams/memory-upstream-store.js'
export { createPostgresUpstreamStore } from './upstreams/postgres-upstream-store.js'
export {
  createRedisUpstreamStore,
  type RedisUpstreamStoreOptions,
} from './upstreams/redis-upstream-store.js'
export {
  type CreateUpstreamInput,
  UPSTREAM_CREDENTIALS_KINDS,
  UPSTREAM_KINDS,
  type UpdateUpstreamInput,
  type UpstreamCredentialsKind,
  type UpstreamKind,
  type UpstreamRecord,
  type UpstreamStore,
} from './upstreams/types.js'
export {
  MAX_UPSTREAM_CREDENTIALS_LENGTH,
  MAX_UPSTREAM_ID_LENGTH,
  MAX_UPSTREAM_URL_LENGTH,
  MAX_UPSTREAM_URLS,
} from './upstreams/upstream-records.js'
