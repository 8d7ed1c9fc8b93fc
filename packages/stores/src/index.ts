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
  DataDirLockedError,
  InvalidCursorError,
  redactUrl,
  StoreError,
  UnsupportedDatabaseUrlError,
} from './errors.js'
export { defaultMigrationsFolder, MIGRATION_LOCK_KEY, migrateDatabase } from './migrate.js'
export * as schema from './schema.js'
export { type AuditEventRow, auditEvents, type NewAuditEventRow } from './schema.js'
