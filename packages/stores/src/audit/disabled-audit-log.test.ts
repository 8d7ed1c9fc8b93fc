import { describe, expect, it } from 'vitest'
import { createDisabledAuditLog } from './disabled-audit-log.js'

describe('createDisabledAuditLog', () => {
  it('records nothing, drops nothing and answers empty pages', async () => {
    const log = createDisabledAuditLog()
    log.record({ kind: 'request', outcome: 'ok', principal: 'alice', target: 'echo' })
    await log.flush()
    expect(await log.query({ limit: 50 })).toEqual({ events: [], nextCursor: null })
    expect(await log.conversation({ a: 'alice', b: 'echo', limit: 50 })).toEqual({
      events: [],
      nextCursor: null,
    })
    expect(log.dropped).toBe(0)
    await log.close()
  })
})
