import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createStoreProbe } from './store-probe.js'

const logger = pino({ level: 'silent' })

describe('createStoreProbe', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('reports a check that hangs as failed after the timeout, and starts no second check while it hangs', async () => {
    let checks = 0
    let answer: () => void = () => {}
    const probe = createStoreProbe({
      check: () => {
        checks += 1
        return new Promise<void>((resolve) => {
          answer = resolve
        })
      },
      timeoutMs: 2_000,
      intervalMs: 1_000,
      failureMessage: 'database did not answer',
      logger,
    })
    expect(probe.latest()).toBeUndefined()
    const first = probe.probe()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(await first).toEqual({ ok: false, message: 'database did not answer' })
    // Still hanging: the next probe answers failed at once without asking the store again.
    expect(await probe.probe()).toEqual({ ok: false, message: 'database did not answer' })
    expect(checks).toBe(1)
    answer()
    await vi.advanceTimersByTimeAsync(0)
    expect(probe.latest()).toEqual({ ok: true })
    const next = probe.probe()
    await vi.advanceTimersByTimeAsync(0)
    answer()
    expect(await next).toEqual({ ok: true })
    expect(checks).toBe(2)
  })

  it('probes in the background once started, and stops when stopped', async () => {
    let checks = 0
    const probe = createStoreProbe({
      check: async () => {
        checks += 1
        if (checks === 2) throw new Error('connection refused')
      },
      timeoutMs: 500,
      intervalMs: 1_000,
      failureMessage: 'store did not answer',
      logger,
    })
    probe.start()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(probe.latest()).toEqual({ ok: true })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(probe.latest()).toEqual({ ok: false, message: 'store did not answer' })
    probe.stop()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(checks).toBe(2)
  })
})
