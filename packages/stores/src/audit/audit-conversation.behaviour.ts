import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidCursorError } from '../errors.js'
import { type AuditLogFixture, at, entry } from './audit-behaviour-support.js'
import { encodeAuditCursor } from './audit-cursor.js'
import type { AuditRecord } from './audit-log.js'

/** The conversation queries every AuditLog implementation must answer alike (see audit-log.behaviour.ts). */
export function describeAuditConversationBehaviour(
  label: string,
  setup: () => Promise<AuditLogFixture>,
): void {
  describe(`AuditLog conversations: ${label}`, () => {
    let fixture: AuditLogFixture

    beforeEach(async () => {
      fixture = await setup()
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    it('answers the conversation between a and b in both directions, oldest first, by principal or client id', async () => {
      const log = fixture.createLog()
      const rows: [string, Partial<AuditRecord>][] = [
        ['a-to-b', { principal: 'alice', clientId: 'web-1', target: 'bob' }],
        ['b-to-a', { principal: 'bob-key', clientId: 'bob', target: 'alice' }],
        ['client-to-b', { principal: 'someone', clientId: 'alice', target: 'bob' }],
        ['a-to-c', { principal: 'alice', clientId: 'web-1', target: 'carol' }],
        ['c-to-b', { principal: 'carol', clientId: 'carol', target: 'bob' }],
        ['b-to-b', { principal: 'bob', clientId: 'bob', target: 'bob' }],
      ]
      // Recorded newest first, so the order of the answer comes from the times.
      for (const [index, [detail, row]] of [...rows.entries()].reverse()) {
        log.record(entry({ ...row, kind: 'message', channel: null, detail, time: at(index * 1_000) }))
      }
      await log.flush()
      const details = async (a: string, b: string, since?: Date) =>
        (await log.conversation({ a, b, since, limit: 50 })).events.map((event) => event.detail)
      expect(await details('alice', 'bob')).toEqual(['a-to-b', 'b-to-a', 'client-to-b'])
      expect(await details('bob', 'alice')).toEqual(['a-to-b', 'b-to-a', 'client-to-b'])
      expect(await details('alice', 'bob', at(1_000))).toEqual(['b-to-a', 'client-to-b'])
      expect(await details('alice', 'nobody')).toEqual([])
      expect(await details("' OR '1'='1", 'bob')).toEqual([])
    })

    it('pages a conversation forward with its cursor, without gaps or repeats, and sees rows that came later', async () => {
      const log = fixture.createLog({ batchSize: 10 })
      for (let index = 0; index < 25; index += 1) {
        const forward = index % 2 === 0
        log.record(
          entry({
            kind: 'request',
            principal: forward ? 'planner' : 'billing',
            clientId: forward ? 'planner' : 'billing',
            target: forward ? 'billing' : 'planner',
            detail: `row-${index}`,
            // Pairs share a time, so the cursor must break ties by id.
            time: at(Math.floor(index / 2) * 10),
          }),
        )
      }
      log.record(entry({ principal: 'planner', target: 'other', time: at(5) }))
      await log.flush()
      const seen: string[] = []
      let cursor: string | undefined
      let last: { nextCursor: string | null } | undefined
      for (let pages = 0; pages < 100; pages += 1) {
        const page = await log.conversation({ a: 'planner', b: 'billing', cursor, limit: 4 })
        seen.push(...page.events.map((event) => event.detail ?? ''))
        last = page
        if (page.nextCursor === null) break
        cursor = page.nextCursor
      }
      expect(last?.nextCursor).toBeNull()
      expect(seen).toEqual(Array.from({ length: 25 }, (_, index) => `row-${index}`))
      // A cursor taken at the end keeps working once more rows arrive.
      const atEnd = await log.conversation({ a: 'planner', b: 'billing', limit: 25 })
      expect(atEnd.nextCursor).toBeNull()
      const lastEvent = atEnd.events.at(-1)
      log.record(entry({ principal: 'billing', target: 'planner', detail: 'later', time: at(60_000) }))
      await log.flush()
      const tail = await log.conversation({
        a: 'planner',
        b: 'billing',
        limit: 10,
        cursor: encodeAuditCursor(lastEvent?.time ?? '', lastEvent?.id ?? ''),
      })
      expect(tail.events.map((event) => event.detail)).toEqual(['later'])
      await expect(log.conversation({ a: 'x', b: 'y', limit: 10, cursor: 'nope' })).rejects.toBeInstanceOf(
        InvalidCursorError,
      )
    })

    it('matches every name of a side: an agent id with the client ids of its instances, both ways', async () => {
      const log = fixture.createLog()
      const rows: [string, Partial<AuditRecord>][] = [
        ['request', { principal: 'web-key', clientId: 'web-frontend', target: 'summarizer' }],
        ['reply-a', { principal: 'sum-key', clientId: 'summarizer-a', target: 'web-frontend' }],
        ['reply-b', { principal: 'sum-key', clientId: 'summarizer-b', target: 'web-frontend' }],
        ['to-other', { principal: 'sum-key', clientId: 'summarizer-b', target: 'other' }],
        ['other-to-web', { principal: 'other', clientId: 'summarizer-c', target: 'web-frontend' }],
      ]
      for (const [index, [detail, row]] of rows.entries()) {
        log.record(entry({ ...row, kind: 'reply', channel: null, detail, time: at(index * 1_000) }))
      }
      await log.flush()
      const summarizer = ['summarizer', 'summarizer-a', 'summarizer-b']
      const details = async (a: string | string[], b: string | string[]) =>
        (await log.conversation({ a, b, limit: 50 })).events.map((event) => event.detail)
      expect(await details('web-frontend', summarizer)).toEqual(['request', 'reply-a', 'reply-b'])
      expect(await details(summarizer, ['web-frontend'])).toEqual(['request', 'reply-a', 'reply-b'])
      expect(await details('web-frontend', 'summarizer')).toEqual(['request'])
    })

    it('pages a conversation newest first with order newest, the cursor going back to older rows', async () => {
      const log = fixture.createLog({ batchSize: 10 })
      for (let index = 0; index < 11; index += 1) {
        const forward = index % 2 === 0
        log.record(
          entry({
            principal: forward ? 'planner' : 'billing',
            target: forward ? 'billing' : 'planner',
            detail: `row-${index}`,
            // Pairs share a time, so the cursor must break ties by id.
            time: at(Math.floor(index / 2) * 10),
          }),
        )
      }
      await log.flush()
      const seen: string[] = []
      let cursor: string | undefined
      for (let pages = 0; pages < 20; pages += 1) {
        const page = await log.conversation({ a: 'planner', b: 'billing', order: 'newest', cursor, limit: 3 })
        seen.push(...page.events.map((event) => event.detail ?? ''))
        if (page.nextCursor === null) break
        cursor = page.nextCursor
      }
      expect(seen).toEqual(Array.from({ length: 11 }, (_, index) => `row-${10 - index}`))
    })

    it('counts the traffic of a window by kind, outcome, source and target, with latency sums, for the map', async () => {
      const log = fixture.createLog()
      const rows: Partial<AuditRecord>[] = [
        { kind: 'request', clientId: 'planner-1', principal: 'tok_p', target: 'worker', time: at(1_000) },
        { kind: 'request', clientId: 'planner-1', principal: 'tok_p', target: 'worker', time: at(2_000) },
        { kind: 'request', clientId: 'planner-1', target: 'worker', outcome: 'denied', time: at(3_000) },
        { kind: 'reply', clientId: 'worker-1', target: 'planner', latencyMs: 30, time: at(3_500) },
        { kind: 'reply', clientId: 'worker-1', target: 'planner', latencyMs: 10, time: at(3_600) },
        { kind: 'publish', principal: 'feeder', clientId: null, channel: 'news', time: at(4_000) },
        { kind: 'connect', clientId: 'planner-1', time: at(4_000) },
        { kind: 'request', clientId: 'planner-1', target: 'worker', time: at(60_000) },
      ]
      for (const row of rows) log.record(entry({ channel: null, outcome: 'ok', ...row }))
      await log.flush()
      const edges = await log.edges?.({ since: at(0), until: at(10_000) })
      const found = (edges ?? [])
        .map((edge) => ({ ...edge }))
        .sort((x, y) => x.kind.localeCompare(y.kind) || x.outcome.localeCompare(y.outcome))
      expect(found).toEqual([
        {
          kind: 'publish',
          outcome: 'ok',
          source: 'feeder',
          target: null,
          channel: 'news',
          count: 1,
          latencyMsSum: 0,
          latencyCount: 0,
        },
        {
          kind: 'reply',
          outcome: 'ok',
          source: 'worker-1',
          target: 'planner',
          channel: null,
          count: 2,
          latencyMsSum: 40,
          latencyCount: 2,
        },
        {
          kind: 'request',
          outcome: 'denied',
          source: 'planner-1',
          target: 'worker',
          channel: null,
          count: 1,
          latencyMsSum: 0,
          latencyCount: 0,
        },
        {
          kind: 'request',
          outcome: 'ok',
          source: 'planner-1',
          target: 'worker',
          channel: null,
          count: 2,
          latencyMsSum: 0,
          latencyCount: 0,
        },
      ])
    })
  })
}
