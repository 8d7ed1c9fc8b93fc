import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidCursorError } from '../errors.js'
import {
  type AuditLogFixture,
  at,
  entry,
  expectNewestFirst,
  readAllPages,
} from './audit-behaviour-support.js'
import type { AuditFilter, AuditRecord } from './audit-log.js'

export type { AuditLogFixture }

/**
 * The behaviour every AuditLog implementation must show. Each implementation's test file runs it with a
 * fixture that hands out fresh, empty logs (the conversation queries: audit-conversation.behaviour.ts).
 */

export function describeAuditLogBehaviour(label: string, setup: () => Promise<AuditLogFixture>): void {
  describe(`AuditLog behaviour: ${label}`, () => {
    let fixture: AuditLogFixture

    beforeEach(async () => {
      fixture = await setup()
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    it('returns every field of a recorded row, with the id as a string and the time as ISO 8601', async () => {
      const log = fixture.createLog()
      log.record({
        kind: 'connect',
        outcome: 'ok',
        principal: 'agent-1',
        clientId: 'client-1',
        connectionId: 'conn-1',
        channel: null,
        target: 'gateway',
        size: 42,
        detail: 'websocket',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        correlationId: 'hs_1',
        latencyMs: 12.7,
        time: at(0),
      })
      await log.flush()
      const page = await log.query({ limit: 10 })
      expect(page.nextCursor).toBeNull()
      expect(page.events).toEqual([
        {
          id: expect.stringMatching(/^[1-9]\d*$/),
          time: '2025-03-01T12:00:00.000Z',
          kind: 'connect',
          outcome: 'ok',
          principal: 'agent-1',
          clientId: 'client-1',
          connectionId: 'conn-1',
          channel: null,
          target: 'gateway',
          size: 42,
          detail: 'websocket',
          traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
          correlationId: 'hs_1',
          latencyMs: 12,
        },
      ])
    })

    it('fills missing optional fields with null and the time with the moment of record()', async () => {
      const log = fixture.createLog()
      const before = Date.now()
      log.record({ kind: 'disconnect', outcome: 'error' })
      const after = Date.now()
      await log.flush()
      const [event] = (await log.query({ limit: 10 })).events
      expect(event).toMatchObject({
        kind: 'disconnect',
        outcome: 'error',
        principal: null,
        size: null,
        correlationId: null,
        latencyMs: null,
      })
      const time = Date.parse(event?.time ?? '')
      expect(time).toBeGreaterThanOrEqual(before)
      expect(time).toBeLessThanOrEqual(after)
    })

    it('writes every row when many batches are needed', async () => {
      const log = fixture.createLog({ batchSize: 7 })
      for (let index = 0; index < 100; index += 1)
        log.record(entry({ detail: `row-${index}`, time: at(index) }))
      await log.flush()
      const page = await log.query({ limit: 500 })
      expect(page.events).toHaveLength(100)
      expect(new Set(page.events.map((event) => event.detail)).size).toBe(100)
      expect(new Set(page.events.map((event) => event.id)).size).toBe(100)
      expect(log.dropped).toBe(0)
    })

    it('returns rows newest first by time, then by id', async () => {
      const log = fixture.createLog()
      log.record(entry({ detail: 'middle', time: at(1_000) }))
      log.record(entry({ detail: 'oldest', time: at(0) }))
      log.record(entry({ detail: 'newest', time: at(2_000) }))
      log.record(entry({ detail: 'newest-second', time: at(2_000) }))
      await log.flush()
      const { events } = await log.query({ limit: 10 })
      expect(events.map((event) => event.detail)).toEqual(['newest-second', 'newest', 'middle', 'oldest'])
    })

    it('filters by kind, principal, channel, since (inclusive) and until (exclusive)', async () => {
      const log = fixture.createLog()
      log.record(entry({ kind: 'connect', principal: 'alice', channel: null, time: at(0), detail: 'a0' }))
      log.record(
        entry({ kind: 'publish', principal: 'alice', channel: 'alerts', time: at(1_000), detail: 'a1' }),
      )
      log.record(
        entry({ kind: 'publish', principal: 'bob', channel: 'alerts', time: at(2_000), detail: 'b2' }),
      )
      log.record(
        entry({ kind: 'subscribe', principal: 'bob', channel: 'news', time: at(3_000), detail: 'b3' }),
      )
      log.record(
        entry({
          kind: 'auth_failure',
          principal: null,
          channel: null,
          outcome: 'denied',
          time: at(4_000),
          detail: 'x4',
        }),
      )
      await log.flush()
      const details = async (filter: Omit<AuditFilter, 'limit'>) =>
        (await log.query({ ...filter, limit: 50 })).events.map((event) => event.detail)

      expect(await details({ kind: 'publish' })).toEqual(['b2', 'a1'])
      expect(await details({ principal: 'alice' })).toEqual(['a1', 'a0'])
      expect(await details({ channel: 'alerts' })).toEqual(['b2', 'a1'])
      expect(await details({ since: at(3_000) })).toEqual(['x4', 'b3'])
      expect(await details({ until: at(1_000) })).toEqual(['a0'])
      expect(await details({ since: at(1_000), until: at(3_000) })).toEqual(['b2', 'a1'])
      expect(await details({ kind: 'publish', principal: 'bob', channel: 'alerts' })).toEqual(['b2'])
      expect(await details({ kind: 'auth_failure' })).toEqual(['x4'])
      expect(await details({ principal: 'nobody' })).toEqual([])
    })

    it('filters by target and correlationId', async () => {
      const log = fixture.createLog()
      log.record(
        entry({ kind: 'handshake', target: 'billing', correlationId: 'hs_1', time: at(0), detail: 'r' }),
      )
      log.record(
        entry({ kind: 'handshake', target: 'planner', correlationId: 'hs_1', time: at(1), detail: 'a' }),
      )
      log.record(
        entry({ kind: 'request', target: 'billing', correlationId: 'req_2', time: at(2), detail: 'q' }),
      )
      await log.flush()
      const details = async (filter: Omit<AuditFilter, 'limit'>) =>
        (await log.query({ ...filter, limit: 50 })).events.map((event) => event.detail)
      expect(await details({ target: 'billing' })).toEqual(['q', 'r'])
      expect(await details({ correlationId: 'hs_1' })).toEqual(['a', 'r'])
      expect(await details({ correlationId: 'hs_1', target: 'planner' })).toEqual(['a'])
      expect(await details({ correlationId: '%' })).toEqual([])
    })

    it('pages through every row exactly once, including rows that share a timestamp', async () => {
      const log = fixture.createLog({ batchSize: 10 })
      const expectedIds = new Set<string>()
      // Groups of equal times straddle page boundaries, which a cursor on time alone would break.
      for (let group = 0; group < 6; group += 1) {
        for (let index = 0; index < 7; index += 1) log.record(entry({ time: at(group * 1_000) }))
      }
      for (let index = 0; index < 5; index += 1) log.record(entry({ time: at(10_000 + index) }))
      await log.flush()
      for (const event of (await log.query({ limit: 500 })).events) expectedIds.add(event.id)
      expect(expectedIds.size).toBe(47)

      for (const limit of [1, 4, 7, 10, 46, 47, 48]) {
        const events = await readAllPages(log, { limit })
        const ids = events.map((event) => event.id)
        expect(ids).toHaveLength(47)
        expect(new Set(ids)).toEqual(expectedIds)
        expectNewestFirst(events)
      }
    })

    it('pages through a filtered result without gaps or duplicates', async () => {
      const log = fixture.createLog()
      for (let index = 0; index < 30; index += 1) {
        log.record(
          entry({ principal: index % 3 === 0 ? 'carol' : 'dave', time: at(Math.floor(index / 4) * 10) }),
        )
      }
      await log.flush()
      const events = await readAllPages(log, { principal: 'carol', limit: 3 })
      expect(events).toHaveLength(10)
      expect(new Set(events.map((event) => event.id)).size).toBe(10)
      expect(events.every((event) => event.principal === 'carol')).toBe(true)
      expectNewestFirst(events)
    })

    it('keeps a cursor stable when newer rows arrive between pages', async () => {
      const log = fixture.createLog()
      for (let index = 0; index < 6; index += 1)
        log.record(entry({ detail: `old-${index}`, time: at(index) }))
      await log.flush()
      const first = await log.query({ limit: 3 })
      expect(first.events.map((event) => event.detail)).toEqual(['old-5', 'old-4', 'old-3'])
      log.record(entry({ detail: 'new', time: at(60_000) }))
      await log.flush()
      const second = await log.query({ limit: 3, cursor: first.nextCursor ?? undefined })
      expect(second.events.map((event) => event.detail)).toEqual(['old-2', 'old-1', 'old-0'])
      expect(second.nextCursor).toBeNull()
    })

    it('answers nextCursor null when the page holds exactly the last rows', async () => {
      const log = fixture.createLog()
      for (let index = 0; index < 4; index += 1) log.record(entry({ time: at(index) }))
      await log.flush()
      expect((await log.query({ limit: 4 })).nextCursor).toBeNull()
      expect((await log.query({ limit: 3 })).nextCursor).toEqual(expect.any(String))
    })

    it('clamps the page size to 1-500', async () => {
      const log = fixture.createLog({ batchSize: 600 })
      for (let index = 0; index < 501; index += 1) log.record(entry({ time: at(index) }))
      await log.flush()
      expect((await log.query({ limit: 0 })).events).toHaveLength(1)
      expect((await log.query({ limit: 10_000 })).events).toHaveLength(500)
    })

    it('refuses a malformed cursor with InvalidCursorError', async () => {
      const log = fixture.createLog()
      log.record(entry({ time: at(0) }))
      await log.flush()
      const base64url = (value: string) => Buffer.from(value, 'utf8').toString('base64url')
      const badCursors = [
        'not a cursor',
        'x',
        '!!!!',
        base64url('{"time":"2025-03-01T12:00:00.000Z","id":"1"}'),
        base64url('["2025-03-01T12:00:00.000Z"]'),
        base64url('["2025-03-01T12:00:00.000Z", 1]'),
        base64url('["2025-03-01T12:00:00.000Z", "1; drop table audit_events"]'),
        base64url('["yesterday", "1"]'),
        base64url('["2025-02-30T12:00:00.000Z", "1"]'),
        base64url('["2025-03-01T12:00:00.000Z", "99999999999999999999"]'),
        base64url('not json'),
        'a'.repeat(300),
      ]
      for (const cursor of badCursors) {
        await expect(log.query({ limit: 10, cursor }), cursor).rejects.toBeInstanceOf(InvalidCursorError)
      }
    })

    it('stores SQL and HTML text literally and finds it by exact match', async () => {
      const log = fixture.createLog()
      const principal = "x'; drop table audit_events; --"
      const channel = '<script>alert("x")</script>'
      const detail = "Robert'); DROP TABLE students;-- 💥 \\ % _ $1 :name"
      log.record(entry({ principal, channel, detail, target: "' OR '1'='1", time: at(0) }))
      log.record(entry({ principal: 'agent-2', time: at(1) }))
      await log.flush()
      const page = await log.query({ principal, limit: 10 })
      expect(page.events).toHaveLength(1)
      expect(page.events[0]).toMatchObject({ principal, channel, detail, target: "' OR '1'='1" })
      expect((await log.query({ channel, limit: 10 })).events).toHaveLength(1)
      // Wildcards are matched literally, and the table is still there.
      expect((await log.query({ principal: '%', limit: 10 })).events).toHaveLength(0)
      expect((await log.query({ limit: 10 })).events).toHaveLength(2)
    })

    it('stores a batch with quotes, unicode, JSON and SQL text and nulls in every text column exactly', async () => {
      const log = fixture.createLog({ batchSize: 1_000 })
      const tricky = [
        `it's "quoted" \\ back\\slash`,
        'ünïcödé 日本語 😀 \u200b zero-width',
        '{"json": [1, null], "nested": {"a": "b"}}',
        "'); delete from audit_events; --",
        '<img src=x onerror="alert(1)"> &amp;',
        'tab\tnew\nline\r\u0001\u001f',
        '',
        ' $1 :name ?',
      ]
      const recorded: AuditRecord[] = []
      for (let index = 0; index < 300; index += 1) {
        const text = (offset: number) => {
          // Every third value is null; the others cycle through the tricky strings.
          if ((index + offset) % 3 === 0) return null
          return `${tricky[(index + offset) % tricky.length]}#${index}`
        }
        recorded.push({
          kind: 'request',
          outcome: index % 2 === 0 ? 'ok' : 'error',
          principal: text(0),
          clientId: text(1),
          connectionId: text(2),
          channel: text(3),
          target: text(4),
          detail: text(5),
          traceId: text(6),
          correlationId: text(7),
          size: index % 4 === 0 ? null : index,
          latencyMs: index % 5 === 0 ? null : index * 7,
          time: at(index),
        })
      }
      for (const record of recorded) log.record(record)
      await log.flush()
      const events = await readAllPages(log, { limit: 100 })
      expect(log.dropped).toBe(0)
      expect(events).toHaveLength(recorded.length)
      const stored = events.map(({ id: _id, ...event }) => event).reverse()
      expect(stored).toEqual(
        recorded.map(({ time, ...record }) => ({ ...record, time: time?.toISOString() })),
      )
      // An unpaired surrogate cannot be stored as text; it becomes U+FFFD instead of failing the batch.
      log.record(entry({ detail: 'half \ud83d pair', time: at(1_000) }))
      await log.flush()
      expect((await log.query({ limit: 1 })).events[0]?.detail).toBe('half \uFFFD pair')
      expect(log.dropped).toBe(0)
    })

    it('stores rows with a NUL character or an out-of-range size instead of failing their batch', async () => {
      const log = fixture.createLog()
      log.record(entry({ principal: 'nul\u0000byte', size: -5, time: at(0) }))
      log.record(entry({ principal: 'huge', size: 1e12, time: at(1) }))
      log.record(entry({ principal: 'fraction', size: 1.5, time: at(2) }))
      await log.flush()
      const { events } = await log.query({ limit: 10 })
      expect(events.map((event) => [event.principal, event.size])).toEqual([
        ['fraction', 1],
        ['huge', 2_147_483_647],
        ['nul\uFFFDbyte', null],
      ])
      expect(log.dropped).toBe(0)
    })

    it('stores a row whose time Postgres cannot hold at the moment of record() instead of failing its batch', async () => {
      const log = fixture.createLog()
      const before = Date.now()
      log.record(entry({ detail: 'far future', time: new Date('+100000-01-01T00:00:00.000Z') }))
      log.record(entry({ detail: 'far past', time: new Date('-005000-01-01T00:00:00.000Z') }))
      log.record(entry({ detail: 'on time', time: at(0) }))
      const after = Date.now()
      await log.flush()
      const { events } = await log.query({ limit: 10 })
      expect(log.dropped).toBe(0)
      expect(events.map((event) => event.detail).sort()).toEqual(['far future', 'far past', 'on time'])
      for (const event of events.filter((event) => event.detail !== 'on time')) {
        expect(Date.parse(event.time)).toBeGreaterThanOrEqual(before)
        expect(Date.parse(event.time)).toBeLessThanOrEqual(after)
      }
    })

    it('resolves flush() at once when nothing is pending, and close() after writing what was recorded', async () => {
      const log = fixture.createLog()
      await log.flush()
      log.record(entry({ time: at(0) }))
      await log.close()
      expect(log.dropped).toBe(0)
      // A fresh log over the same store sees the row written by close().
      expect((await fixture.createLog().query({ limit: 10 })).events).toHaveLength(1)
    })
  })
}
