import { StoreError } from '@parley/stores'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { GatewayError } from '../errors.js'
import { boundStore, isConnectionFailure } from './bounded-store.js'

const bound = { timeoutMs: 1_000, logger: pino({ level: 'silent' }) }

interface Store {
  hang(): Promise<string>
  fail(error: unknown): Promise<string>
  answer(value: string): Promise<string>
  count(): number
  close(): Promise<void>
}

function store(onClose: () => Promise<void> = async () => {}): Store {
  return {
    hang: () => new Promise<string>(() => {}),
    fail: (error) => Promise.reject(error),
    answer: async (value) => value,
    count: () => 7,
    close: onClose,
  }
}

describe('boundStore', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('answers a store call that never settles with a retryable unavailable once the timeout passes', async () => {
    const outcome = boundStore(store(), 'test store', bound)
      .hang()
      .catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(999)
    let settled = false
    void outcome.then(() => {
      settled = true
    })
    await Promise.resolve()
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    const error = await outcome
    expect(error).toBeInstanceOf(GatewayError)
    expect(error).toMatchObject({ code: 'unavailable' })
  })

  it('maps a lost connection to unavailable and passes domain errors and results through', async () => {
    const bounded = boundStore(store(), 'test store', bound)
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    await expect(bounded.fail(reset)).rejects.toMatchObject({ name: 'GatewayError', code: 'unavailable' })
    const wrapped = new Error('Failed query: select 1', { cause: reset })
    await expect(bounded.fail(wrapped)).rejects.toMatchObject({ code: 'unavailable' })
    const domain = new StoreError('not_found', 'no such token')
    await expect(bounded.fail(domain)).rejects.toBe(domain)
    await expect(bounded.answer('yes')).resolves.toBe('yes')
    expect(bounded.count()).toBe(7)
  })

  it('leaves close unbounded, so closing waits for the store', async () => {
    let closed = false
    const bounded = boundStore(
      store(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5_000))
        closed = true
      }),
      'test store',
      bound,
    )
    const closing = bounded.close()
    await vi.advanceTimersByTimeAsync(5_000)
    await closing
    expect(closed).toBe(true)
  })
})

describe('isConnectionFailure', () => {
  it('recognises driver and socket codes, PostgreSQL connection classes and ioredis messages, not other errors', () => {
    expect(isConnectionFailure(Object.assign(new Error('x'), { code: 'CONNECTION_CLOSED' }))).toBe(true)
    expect(isConnectionFailure(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true)
    expect(isConnectionFailure(Object.assign(new Error('x'), { code: '08006' }))).toBe(true)
    expect(isConnectionFailure(new Error('Connection is closed.'))).toBe(true)
    expect(isConnectionFailure(new Error('Command timed out'))).toBe(true)
    expect(isConnectionFailure(Object.assign(new Error('x'), { code: '23505' }))).toBe(false)
    expect(isConnectionFailure(new Error('something else'))).toBe(false)
    expect(isConnectionFailure('not an error')).toBe(false)
  })
})
