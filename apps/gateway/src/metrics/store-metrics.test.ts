import { describe, expect, it } from 'vitest'
import { timedStore } from './store-metrics.js'

class CountingStore {
  #count = 0
  async add(by: number): Promise<number> {
    this.#count += by
    return this.#count
  }
  async fail(): Promise<never> {
    throw new Error('store down')
  }
  peek(): number {
    return this.#count
  }
}

describe('timedStore', () => {
  it('times every promise-returning method by name and outcome, on the store itself (private fields work)', async () => {
    const seen: Array<[string, string, string]> = []
    const store = timedStore(new CountingStore(), 'counting', (name, operation, seconds, outcome) => {
      expect(seconds).toBeGreaterThanOrEqual(0)
      seen.push([name, operation, outcome])
    })
    expect(await store.add(2)).toBe(2)
    expect(await store.add(3)).toBe(5)
    await expect(store.fail()).rejects.toThrow('store down')
    // A method that returns no promise is not I/O: passed through, not timed.
    expect(store.peek()).toBe(5)
    expect(seen).toEqual([
      ['counting', 'add', 'ok'],
      ['counting', 'add', 'ok'],
      ['counting', 'fail', 'error'],
    ])
    expect(store).toBeInstanceOf(CountingStore)
  })
})
