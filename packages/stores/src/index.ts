export { type AuditCursor, decodeAuditCursor, encodeAuditCursor } from './audit/audit-cursor.js'
export type { AuditEvent, AuditFilter, AuditLog, AuditRecord } from './audit/audit-log.js'
export { MAX_AUDIT_PAGE_SIZE, MAX_AUDIT_TEXT_LENGTH } from './audit/audit-normalize.js'
export { createMemoryAuditLog, type MemoryAuditLogOptions } from './audit/memory-audit-log.js'
export {
  createPostgresAuditLog,
  type PostgresAuditLog,
  type PostgresAuditLogOptions,
} from './audit/postgres-audit-log.js'
export { DATA_DIR_LOCK_FILE } from './data-dir-lock.js'
export {
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
export type {
  DeadLetterFilter,
  DeadLetterListQuery,
  DeliveryBackend,
  DeliveryBackendOptions,
  DeliveryCounts,
  DeliveryState,
  DeliveryStore,
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
export {
  DataDirLockedError,
  InvalidCursorError,
  redactUrl,
  StoreError,
  UnsupportedDatabaseUrlError,
} from './errors.js'
export { defaultMigrationsFolder, MIGRATION_LOCK_KEY, migrateDatabase } from './migrate.js'
export * as schema from './schema.js'
export { type AuditEventRow, auditEvents, type NewAuditEventRow } from './schema.js'
