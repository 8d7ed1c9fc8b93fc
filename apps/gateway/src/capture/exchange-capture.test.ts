import { createMemoryCaptureStore } from '@parley/stores'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config.js'
import { createExchangeCapture, type ExchangeStart } from './exchange-capture.js'

const T0 = Date.parse('2026-03-01T12:00:00.000Z')

function start(overrides: Partial<ExchangeStart> = {}): ExchangeStart {
  return {
    correlationId: 'req_1',
    caller: 'planner',
    callerAgentId: 'planner',
    agentId: 'worker',
    instanceId: 'agt_1',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    startedAt: T0,
    rule: undefined,
    data: { q: 1 },
    ...overrides,
  }
}

function setup(capture: Parameters<typeof parseConfig>[0]) {
  let now = T0
  const store = createMemoryCaptureStore()
  const exchanges = createExchangeCapture({
    config: parseConfig(capture).capture,
    node: 'node-a',
    store: () => store,
    logger: pino({ level: 'silent' }),
    now: () => now,
  })
  return { store, exchanges, advance: (ms: number) => (now += ms) }
}

describe('exchange capture', () => {
  it('captures nothing unless an agent or a rule is named', async () => {
    const { store, exchanges } = setup({})
    expect(exchanges.enabled).toBe(false)
    expect(exchanges.begin(start())).toBe(false)
    exchanges.step('req_1', 'reply', { a: 1 })
    await exchanges.flush()
    expect(await store.exchange('req_1')).toEqual([])
  })

  it('captures by agent pattern as callee or caller, and by the allow rule that decided', () => {
    const { exchanges } = setup({ capture: { agents: ['bill*'], policies: ['pol_x'] } })
    expect(exchanges.begin(start({ correlationId: 'a', agentId: 'billing' }))).toBe(true)
    expect(exchanges.begin(start({ correlationId: 'b', callerAgentId: 'billing-2' }))).toBe(true)
    expect(exchanges.begin(start({ correlationId: 'c', rule: 'pol_x' }))).toBe(true)
    expect(exchanges.begin(start({ correlationId: 'd', rule: 'pol_y' }))).toBe(false)
  })

  it('records a payload over maxPayloadBytes as truncated, without it, and times each step from the request', async () => {
    const { store, exchanges, advance } = setup({ capture: { agents: ['worker'], maxPayloadBytes: 16 } })
    exchanges.begin(start())
    advance(25)
    exchanges.step('req_1', 'reply', { text: 'x'.repeat(100) })
    exchanges.end('req_1')
    exchanges.step('req_1', 'chunk', 'late')
    await exchanges.flush()
    const steps = await store.exchange('req_1')
    expect(steps.map((step) => [step.step, step.offsetMs, step.payload, step.truncated])).toEqual([
      ['request', 0, '{"q":1}', false],
      ['reply', 25, null, true],
    ])
    expect(steps[1]?.size).toBe(JSON.stringify({ text: 'x'.repeat(100) }).length)
  })

  it('deletes the steps older than capture.retention after a write', async () => {
    const { store, exchanges, advance } = setup({ capture: { agents: ['worker'], retention: 60 } })
    exchanges.begin(start({ correlationId: 'old' }))
    await exchanges.flush()
    advance(61_000)
    exchanges.begin(start({ correlationId: 'new', startedAt: T0 + 61_000 }))
    await exchanges.flush()
    expect(await store.exchange('old')).toEqual([])
    expect(await store.exchange('new')).toHaveLength(1)
  })
})
