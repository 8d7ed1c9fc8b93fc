import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CaptureRecord, CaptureStore } from './capture-store.js'

export interface CaptureStoreFixture {
  store: CaptureStore
  teardown(): Promise<void>
}

const T0 = Date.parse('2026-03-01T12:00:00.000Z')

function step(correlationId: string, overrides: Partial<CaptureRecord> = {}): CaptureRecord {
  return {
    time: new Date(T0),
    correlationId,
    step: 'request',
    stepIndex: 0,
    caller: 'planner',
    agentId: 'worker',
    instanceId: 'inst_1',
    node: 'node-a',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    offsetMs: 0,
    size: 12,
    payload: '{"q":"hello"}',
    redacted: [],
    ...overrides,
  }
}

/** The behaviour every CaptureStore must show. */
export function describeCaptureStoreBehaviour(
  label: string,
  setup: () => Promise<CaptureStoreFixture>,
): void {
  describe(`CaptureStore behaviour: ${label}`, () => {
    let fixture: CaptureStoreFixture
    let store: CaptureStore

    beforeEach(async () => {
      fixture = await setup()
      store = fixture.store
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    it('gives back the steps of one exchange in step order, whatever order they were appended in', async () => {
      await store.append([
        step('req_1', { step: 'reply', stepIndex: 3, offsetMs: 40, payload: '{"a":1}' }),
        step('req_1'),
        step('req_1', { step: 'chunk', stepIndex: 1, offsetMs: 10, payload: '"x"', instanceId: 'inst_2' }),
        step('req_1', { step: 'chunk', stepIndex: 2, offsetMs: 20, payload: '"y"' }),
        step('req_2'),
      ])
      const steps = await store.exchange('req_1')
      expect(steps.map((s) => [s.step, s.stepIndex, s.offsetMs, s.payload])).toEqual([
        ['request', 0, 0, '{"q":"hello"}'],
        ['chunk', 1, 10, '"x"'],
        ['chunk', 2, 20, '"y"'],
        ['reply', 3, 40, '{"a":1}'],
      ])
      expect(steps[1]?.instanceId).toBe('inst_2')
      expect(steps[0]).toMatchObject({
        caller: 'planner',
        agentId: 'worker',
        traceId: '0af7651916cd43dd8448eb211c80319c',
        node: 'node-a',
        size: 12,
        redacted: [],
        truncated: false,
      })
    })

    it('keeps the redacted paths and a truncated step without its payload', async () => {
      await store.append([
        step('req_1', { payload: '{"password":"[redacted]"}', redacted: ['$.password'] }),
        step('req_1', { step: 'reply', stepIndex: 1, payload: null, truncated: true, size: 900_000 }),
      ])
      const [request, reply] = await store.exchange('req_1')
      expect(request?.redacted).toEqual(['$.password'])
      expect(reply).toMatchObject({ payload: null, truncated: true, size: 900_000 })
    })

    it('lists the exchanges between two sides either way, newest first, each with its steps', async () => {
      await store.append([
        step('old', { time: new Date(T0) }),
        step('old', { step: 'reply', stepIndex: 1, time: new Date(T0 + 5) }),
        step('back', { time: new Date(T0 + 1_000), caller: 'worker-client', agentId: 'planner' }),
        step('new', { time: new Date(T0 + 2_000), caller: 'planner' }),
        step('other', { time: new Date(T0 + 3_000), caller: 'someone-else' }),
      ])
      const pages = await store.exchanges({ a: ['planner'], b: ['worker', 'worker-client'], limit: 10 })
      expect(pages.map((exchange) => exchange[0]?.correlationId)).toEqual(['new', 'back', 'old'])
      expect(pages[2]?.map((s) => s.step)).toEqual(['request', 'reply'])
      const older = await store.exchanges({
        a: ['planner'],
        b: ['worker'],
        before: new Date(T0 + 2_000),
        limit: 1,
      })
      expect(older.map((exchange) => exchange[0]?.correlationId)).toEqual(['old'])
    })

    it('prunes the steps recorded before the retention limit and keeps the rest', async () => {
      await store.append([
        step('gone', { time: new Date(T0) }),
        step('kept', { time: new Date(T0 + 60_000) }),
      ])
      expect(await store.prune(new Date(T0 + 1))).toBe(1)
      expect(await store.exchange('gone')).toEqual([])
      expect(await store.exchange('kept')).toHaveLength(1)
    })
  })
}
