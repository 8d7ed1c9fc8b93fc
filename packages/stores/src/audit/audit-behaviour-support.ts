import type { AuditEvent } from '@parley/protocol'
import { expect } from 'vitest'
import type { AuditFilter, AuditLog, AuditRecord } from './audit-log.js'

/** What the AuditLog behaviour suites (audit-log.behaviour.ts, audit-conversation.behaviour.ts) share. */

export interface AuditLogFixture {
  /** A log over an empty store. Options that an implementation does not have are ignored. */
  createLog(options?: { batchSize?: number }): AuditLog
  /** Called after each test. */
  teardown(): Promise<void>
}

export const T0 = Date.parse('2025-03-01T12:00:00.000Z')
export const at = (offsetMs: number): Date => new Date(T0 + offsetMs)

export function entry(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return { kind: 'publish', outcome: 'ok', principal: 'agent-1', channel: 'alerts', size: 10, ...overrides }
}

/** Walks every page of a query and returns the events in page order. */
export async function readAllPages(
  log: AuditLog,
  filter: Omit<AuditFilter, 'cursor'>,
): Promise<AuditEvent[]> {
  const events: AuditEvent[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < 1_000; pages += 1) {
    const page = await log.query({ ...filter, cursor })
    expect(page.events.length).toBeLessThanOrEqual(filter.limit)
    events.push(...page.events)
    if (page.nextCursor === null) return events
    expect(page.events).toHaveLength(filter.limit)
    cursor = page.nextCursor
  }
  throw new Error('pagination did not end')
}

export function expectNewestFirst(events: AuditEvent[]): void {
  for (let index = 1; index < events.length; index += 1) {
    const newer = events[index - 1] as AuditEvent
    const older = events[index] as AuditEvent
    const newerTime = Date.parse(newer.time)
    const olderTime = Date.parse(older.time)
    expect(newerTime >= olderTime, `${newer.time} before ${older.time}`).toBe(true)
    if (newerTime === olderTime) expect(BigInt(newer.id) > BigInt(older.id)).toBe(true)
  }
}
