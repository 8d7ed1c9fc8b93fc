import { describe, expect, it } from 'vitest'
import { describeAuditConversationBehaviour } from './audit-conversation.behaviour.js'
import { type AuditLogFixture, describeAuditLogBehaviour } from './audit-log.behaviour.js'
import type { AuditLog } from './audit-log.js'
import { createMemoryAuditLog } from './memory-audit-log.js'

const memoryFixture = async (): Promise<AuditLogFixture> => {
  // Logs created in one test share rows, as logs over one database would.
  let shared: AuditLog | undefined
  return {
    createLog: () => {
      shared ??= createMemoryAuditLog()
      return shared
    },
    teardown: async () => {},
  }
}
describeAuditLogBehaviour('memory', memoryFixture)
describeAuditConversationBehaviour('memory', memoryFixture)

describe('createMemoryAuditLog', () => {
  it('keeps only the newest maxRows rows', async () => {
    const log = createMemoryAuditLog({ maxRows: 5 })
    for (let index = 0; index < 12; index += 1) {
      log.record({ kind: 'publish', outcome: 'ok', detail: `row-${index}`, time: new Date(1_000 + index) })
    }
    const { events } = await log.query({ limit: 50 })
    expect(events.map((event) => event.detail)).toEqual(['row-11', 'row-10', 'row-9', 'row-8', 'row-7'])
    expect(log.dropped).toBe(0)
  })

  it('returns copies, so a caller cannot change stored rows', async () => {
    const log = createMemoryAuditLog()
    log.record({ kind: 'connect', outcome: 'ok', principal: 'alice' })
    const [first] = (await log.query({ limit: 1 })).events
    if (first) first.principal = 'mallory'
    expect((await log.query({ limit: 1 })).events[0]?.principal).toBe('alice')
  })
})
