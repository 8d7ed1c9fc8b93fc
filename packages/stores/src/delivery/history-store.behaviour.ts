import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type DeliveryBackendFixture,
  defaultBackendOptions,
  HOUR,
  publication,
  T0,
} from './delivery-backend.fixture.js'
import type { HistoryStore, PublishOutcome, RetentionPolicy, StreamPosition } from './types.js'

/**
 * The behaviour every HistoryStore must show: offsets, epochs, idempotent publish, recovery and
 * retention. Each implementation's test file runs it with its own fixture.
 */
export function describeHistoryStoreBehaviour(
  label: string,
  setup: () => Promise<DeliveryBackendFixture>,
): void {
  describe(`HistoryStore behaviour: ${label}`, () => {
    let fixture: DeliveryBackendFixture
    let retention: RetentionPolicy
    let history: HistoryStore

    beforeEach(async () => {
      fixture = await setup()
      retention = { size: 2_000, ttlMs: HOUR }
      const backend = await fixture.createBackend({ retention: () => retention })
      history = backend.history
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    async function publishRange(channel: string, from: number, to: number): Promise<PublishOutcome[]> {
      const inputs = []
      for (let index = from; index <= to; index += 1) inputs.push(publication(channel, index))
      return history.publish(inputs)
    }

    it('numbers publications from offset 1, contiguously, per channel, under one epoch', async () => {
      const first = await history.publish([publication('alerts', 1), publication('news', 1)])
      const rest = await history.publish([
        publication('alerts', 2),
        publication('alerts', 3),
        publication('news', 2),
      ])
      const alerts = [...first, ...rest].filter((outcome) => outcome.publication.channel === 'alerts')
      const news = [...first, ...rest].filter((outcome) => outcome.publication.channel === 'news')
      expect(alerts.map((outcome) => outcome.publication.offset)).toEqual([1, 2, 3])
      expect(news.map((outcome) => outcome.publication.offset)).toEqual([1, 2])
      expect(new Set(alerts.map((outcome) => outcome.publication.epoch)).size).toBe(1)
      expect(alerts[0]?.publication.epoch).not.toBe(news[0]?.publication.epoch)
      expect(first[0]).toEqual({
        publication: {
          channel: 'alerts',
          offset: 1,
          epoch: expect.stringMatching(/^ep_[A-Za-z0-9_-]{16}$/),
          id: 'msg-alerts-1',
          source: 'publisher',
          data: { index: 1, text: 'hello 1' },
          timestamp: T0 + 1,
        },
        duplicate: false,
        deliveries: [],
      })
      expect(await history.position('alerts')).toEqual({ offset: 3, epoch: alerts[0]?.publication.epoch })
    })

    it('gives 32 concurrent publishers on one channel unique contiguous offsets in call order', async () => {
      const calls = Array.from({ length: 32 }, (_, caller) =>
        history.publish([
          publication('race', caller * 3, { id: `c${caller}-0` }),
          publication('race', caller * 3 + 1, { id: `c${caller}-1` }),
          publication('race', caller * 3 + 2, { id: `c${caller}-2` }),
        ]),
      )
      const results = await Promise.all(calls)
      const offsets = results.flat().map((outcome) => outcome.publication.offset)
      expect(offsets).toEqual(Array.from({ length: 96 }, (_, index) => index + 1))
      const position = await history.position('race')
      expect(position.offset).toBe(96)
      const read = await history.readSince('race', { offset: 0, epoch: position.epoch }, T0 + 1_000)
      expect(read.recovered && read.publications.map((stored) => stored.id)).toEqual(
        results.flat().map((outcome) => outcome.publication.id),
      )
    })

    it('stores each of 1,000 idempotency keys once when each is published 5 times concurrently', async () => {
      const calls: Promise<PublishOutcome[]>[] = []
      for (let repeat = 0; repeat < 5; repeat += 1) {
        for (let key = 0; key < 1_000; key += 1) {
          calls.push(
            history.publish([
              publication('keys', key, { id: `msg-${key}-${repeat}`, idempotencyKey: `key-${key}` }),
            ]),
          )
        }
      }
      const outcomes = (await Promise.all(calls)).flat()
      const stored = outcomes.filter((outcome) => !outcome.duplicate)
      expect(stored).toHaveLength(1_000)
      expect(new Set(stored.map((outcome) => outcome.publication.offset)).size).toBe(1_000)
      const firstByKey = new Map<number, PublishOutcome>()
      for (const outcome of stored) {
        firstByKey.set((outcome.publication.data as { index: number }).index, outcome)
      }
      for (const outcome of outcomes.filter((candidate) => candidate.duplicate)) {
        const key = (outcome.publication.data as { index: number }).index
        expect(outcome.publication).toEqual(firstByKey.get(key)?.publication)
        expect(outcome.deliveries).toEqual([])
      }
      // The first call of each key (repeat 0, issued first) is the one stored.
      expect(stored.every((outcome) => outcome.publication.id.endsWith('-0'))).toBe(true)
      const position = await history.position('keys')
      expect(position.offset).toBe(1_000)
      const read = await history.readSince('keys', { offset: 0, epoch: position.epoch }, T0 + 2_000)
      expect(read.recovered && read.publications).toHaveLength(1_000)
    })

    it('dedupes repeats within one call, scopes keys to the channel and forgets them after the window', async () => {
      const [first, repeat, other] = await history.publish([
        publication('a', 1, { idempotencyKey: 'k' }),
        publication('a', 2, { idempotencyKey: 'k' }),
        publication('b', 3, { idempotencyKey: 'k' }),
      ])
      expect(first?.duplicate).toBe(false)
      expect(repeat).toEqual({ publication: first?.publication, duplicate: true, deliveries: [] })
      expect(other?.duplicate).toBe(false)
      expect(other?.publication.offset).toBe(1)

      const within = await history.publish([
        publication('a', 4, {
          idempotencyKey: 'k',
          timestamp: T0 + 1 + defaultBackendOptions.dedupeWindowMs - 1,
        }),
      ])
      expect(within[0]?.duplicate).toBe(true)
      expect((await history.position('a')).offset).toBe(1)

      const after = await history.publish([
        publication('a', 5, {
          idempotencyKey: 'k',
          timestamp: T0 + 1 + defaultBackendOptions.dedupeWindowMs,
        }),
      ])
      expect(after[0]?.duplicate).toBe(false)
      expect(after[0]?.publication.offset).toBe(2)
    })

    it('answers offset 0 and a stable epoch for a new channel, and another epoch for another channel', async () => {
      const position = await history.position('fresh')
      expect(position.offset).toBe(0)
      expect(position.epoch).toMatch(/^ep_[A-Za-z0-9_-]{16}$/)
      expect(await history.position('fresh')).toEqual(position)
      expect((await history.position('other')).epoch).not.toBe(position.epoch)
      const [outcome] = await history.publish([publication('fresh', 1)])
      expect(outcome?.publication.epoch).toBe(position.epoch)
    })

    it('recovers exactly the publications missed since a position', async () => {
      await publishRange('feed', 1, 5)
      const seen: StreamPosition = await history.position('feed')
      await publishRange('feed', 6, 9)
      const read = await history.readSince('feed', seen, T0 + 100)
      expect(read.recovered).toBe(true)
      if (!read.recovered) return
      expect(read.publications.map((stored) => stored.offset)).toEqual([6, 7, 8, 9])
      expect(read.publications.map((stored) => stored.id)).toEqual([6, 7, 8, 9].map((n) => `msg-feed-${n}`))
      expect(read.publications[0]).toEqual({
        channel: 'feed',
        offset: 6,
        epoch: seen.epoch,
        id: 'msg-feed-6',
        source: 'publisher',
        data: { index: 6, text: 'hello 6' },
        timestamp: T0 + 6,
      })
      expect(read.position).toEqual({ offset: 9, epoch: seen.epoch })

      const upToDate = await history.readSince('feed', read.position, T0 + 100)
      expect(upToDate).toEqual({ recovered: true, publications: [], position: read.position })
      const fromStart = await history.readSince('feed', { offset: 0, epoch: seen.epoch }, T0 + 100)
      expect(fromStart.recovered && fromStart.publications.map((stored) => stored.offset)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9,
      ])
    })

    it('answers recovered: false for another epoch and for an offset ahead of the stream', async () => {
      await publishRange('feed', 1, 3)
      const position = await history.position('feed')
      expect(await history.readSince('feed', { offset: 1, epoch: 'ep_someotherepoch00' }, T0)).toEqual({
        recovered: false,
        position,
      })
      expect(await history.readSince('feed', { offset: 0, epoch: 'ep_someotherepoch00' }, T0)).toEqual({
        recovered: false,
        position,
      })
      expect(await history.readSince('feed', { offset: 4, epoch: position.epoch }, T0)).toEqual({
        recovered: false,
        position,
      })
      const unknown = await history.readSince('never-published', { offset: 2, epoch: position.epoch }, T0)
      expect(unknown.recovered).toBe(false)
      expect(unknown.position.offset).toBe(0)
      expect(unknown.position).toEqual(await history.position('never-published'))
    })

    it('answers recovered: false, never a partial list, when the missed range is beyond the retained size', async () => {
      retention = { size: 3, ttlMs: HOUR }
      await publishRange('small', 1, 6)
      const { epoch } = await history.position('small')
      for (const offset of [0, 1, 2]) {
        const read = await history.readSince('small', { offset, epoch }, T0 + 10)
        expect(read, `since ${offset}`).toEqual({ recovered: false, position: { offset: 6, epoch } })
      }
      const read = await history.readSince('small', { offset: 3, epoch }, T0 + 10)
      expect(read.recovered && read.publications.map((stored) => stored.offset)).toEqual([4, 5, 6])
      await history.trim(T0 + 10)
      expect((await history.readSince('small', { offset: 2, epoch }, T0 + 10)).recovered).toBe(false)
      expect((await history.readSince('small', { offset: 4, epoch }, T0 + 10)).recovered).toBe(true)
    })

    it('answers recovered: false when the oldest missed publication is older than the TTL', async () => {
      retention = { size: 100, ttlMs: 1_000 }
      await publishRange('ttl', 1, 5) // timestamps T0+1 … T0+5
      const { epoch } = await history.position('ttl')
      // At T0+1_003, publications 1-3 have expired and 4-5 are retained.
      const now = T0 + 1_003
      expect((await history.readSince('ttl', { offset: 0, epoch }, now)).recovered).toBe(false)
      expect((await history.readSince('ttl', { offset: 2, epoch }, now)).recovered).toBe(false)
      const read = await history.readSince('ttl', { offset: 3, epoch }, now)
      expect(read.recovered && read.publications.map((stored) => stored.offset)).toEqual([4, 5])
      expect(await history.readSince('ttl', { offset: 5, epoch }, T0 + 10_000)).toEqual({
        recovered: true,
        publications: [],
        position: { offset: 5, epoch },
      })
    })

    it('keeps nothing, and recovers nothing missed, with a retention size of 0', async () => {
      retention = { size: 0, ttlMs: HOUR }
      await publishRange('none', 1, 2)
      const { epoch } = await history.position('none')
      expect((await history.readSince('none', { offset: 1, epoch }, T0 + 5)).recovered).toBe(false)
      expect((await history.readSince('none', { offset: 2, epoch }, T0 + 5)).recovered).toBe(true)
    })

    it('trims nothing, and does not fail, when no channel has publications left', async () => {
      expect(await history.trim(T0)).toBe(0)
      await publishRange('gone', 1, 2)
      expect(await history.trim(T0 + HOUR + 10)).toBe(2)
      expect(await history.trim(T0 + HOUR + 10)).toBe(0)
    })

    it('trims by size and by TTL, and keeps offsets and epochs', async () => {
      await publishRange('trimmed', 1, 10)
      const { epoch } = await history.position('trimmed')
      retention = { size: 6, ttlMs: 1_000 }
      expect(await history.trim(T0 + 5)).toBe(4)
      expect(await history.trim(T0 + 5)).toBe(0)
      // TTL: at T0+1_007, publications up to offset 7 have expired.
      expect(await history.trim(T0 + 1_007)).toBe(3)
      const read = await history.readSince('trimmed', { offset: 7, epoch }, T0 + 1_007)
      expect(read.recovered && read.publications.map((stored) => stored.offset)).toEqual([8, 9, 10])
      const [next] = await history.publish([publication('trimmed', 11, { timestamp: T0 + 1_007 })])
      expect(next?.publication).toMatchObject({ offset: 11, epoch })
      expect(await history.trim(T0 + HOUR)).toBe(4)
      expect(await history.position('trimmed')).toEqual({ offset: 11, epoch })
    })

    it('trims expired idempotency keys', async () => {
      await history.publish([publication('keyed', 1, { idempotencyKey: 'k1' })])
      expect(await history.trim(T0 + 1 + defaultBackendOptions.dedupeWindowMs)).toBe(1)
      const [again] = await history.publish([
        publication('keyed', 2, {
          idempotencyKey: 'k1',
          timestamp: T0 + 2 + defaultBackendOptions.dedupeWindowMs,
        }),
      ])
      expect(again?.duplicate).toBe(false)
    })

    it('stores any JSON value as data and returns it unchanged', async () => {
      const values = [
        null,
        0,
        'text',
        '123',
        'true',
        '"quoted"',
        [1, 'two', { three: 3 }],
        { nested: { deep: [true, false] }, é: '💥' },
      ]
      const outcomes = await history.publish(
        values.map((data, index) => publication('json', index, { data })),
      )
      const read = await history.readSince(
        'json',
        { offset: 0, epoch: outcomes[0]?.publication.epoch ?? '' },
        T0,
      )
      expect(read.recovered && read.publications.map((stored) => stored.data)).toEqual(values)
    })
  })
}

/**
 * Two nodes over one store publish 200 messages at once, half of them repeats of 100 idempotency keys:
 * together they store exactly 100, at offsets 1..100, and every repeat is answered with the publication its
 * key first stored.
 */
export async function expectOneSequenceAcrossNodes(nodeA: HistoryStore, nodeB: HistoryStore): Promise<void> {
  const calls: Promise<PublishOutcome[]>[] = []
  for (let index = 0; index < 200; index += 1) {
    const node = index % 2 === 0 ? nodeA : nodeB
    calls.push(node.publish([publication('shared', index, { idempotencyKey: `k${index % 100}` })]))
  }
  const outcomes = (await Promise.all(calls)).flat()
  const stored = outcomes.filter((outcome) => !outcome.duplicate)
  expect(stored).toHaveLength(100)
  expect(stored.map((outcome) => outcome.publication.offset).sort((a, b) => a - b)).toEqual(
    Array.from({ length: 100 }, (_, index) => index + 1),
  )
  const keyOf = (outcome: PublishOutcome) => (outcome.publication.data as { index: number }).index % 100
  const firstByKey = new Map(stored.map((outcome) => [keyOf(outcome), outcome.publication]))
  for (const outcome of outcomes) expect(outcome.publication).toEqual(firstByKey.get(keyOf(outcome)))
  expect(await nodeB.position('shared')).toEqual(await nodeA.position('shared'))
}
