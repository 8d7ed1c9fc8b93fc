import type { AuditPage } from '@parley/protocol'
import type { AuditLog } from './audit-log.js'

const EMPTY_PAGE: AuditPage = { events: [], nextCursor: null }

/**
 * The audit log of a gateway whose operator turned the audit off: `record` keeps nothing (the rows are not
 * dropped for lack of room, they were never asked for, so `dropped` stays 0) and every page is empty.
 */
export function createDisabledAuditLog(): AuditLog {
  return {
    record() {},
    flush: () => Promise.resolve(),
    query: () => Promise.resolve({ ...EMPTY_PAGE, events: [] }),
    conversation: () => Promise.resolve({ ...EMPTY_PAGE, events: [] }),
    dropped: 0,
    close: () => Promise.resolve(),
  }
}
