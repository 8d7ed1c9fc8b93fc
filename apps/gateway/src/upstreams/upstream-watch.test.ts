import { createMemoryUpstreamStore, type UpstreamRecord } from '@parley/stores'
import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryBusNetwork } from '../bus/memory-bus.js'
import { createUpstreamWatch, type UpstreamWatch } from './upstream-watch.js'

const logger = pino({ level: 'silent' })

describe('upstream watch', () => {
  const watches: UpstreamWatch[] = []
  afterEach(() => {
    for (const watch of watches.splice(0)) watch.stop()
    vi.useRealTimers()
  })

  function twoNodes(reloadIntervalMs = 60_000) {
    const network = createMemoryBusNetwork()
    const store = createMemoryUpstreamStore()
    const make = () => {
      const watch = createUpstreamWatch({ store: () => store, bus: network.join(), reloadIntervalMs, logger })
      watches.push(watch)
      return watch
    }
    return { store, network, a: make(), b: make() }
  }

  it('tells each listener of its kind about the upstreams at start and after a change made on another node', async () => {
    const { store, a, b } = twoNodes()
    const seenOnB: string[][] = []
    b.onChange('a2a', (records) => {
      seenOnB.push(records.map((record) => record.id))
    })
    const mcpOnB = vi.fn()
    b.onChange('mcp', mcpOnB)
    await store.create({ kind: 'a2a', id: 'first', urls: ['http://a.example/'] }, 1)
    await Promise.all([a.start(), b.start()])
    expect(seenOnB).toEqual([['first']])
    await store.create({ kind: 'a2a', id: 'second', urls: ['http://b.example/'] }, 2)
    await a.changed()
    await expect.poll(() => seenOnB.at(-1), { timeout: 10_000 }).toEqual(['first', 'second'])
    expect(mcpOnB).toHaveBeenLastCalledWith([])
    expect(b.current('a2a').map((record: UpstreamRecord) => record.id)).toEqual(['first', 'second'])
  })

  it('catches up from the store on its interval when the bus message is lost', async () => {
    vi.useFakeTimers()
    const { store, network, a, b } = twoNodes(1_000)
    const seenOnB: string[][] = []
    b.onChange('mcp', (records) => {
      seenOnB.push(records.map((record) => record.id))
    })
    await Promise.all([a.start(), b.start()])
    network.setReachable(false)
    await store.create({ kind: 'mcp', id: 'files', urls: ['http://m.example/mcp'] }, 1)
    await a.changed()
    expect(seenOnB).toEqual([[]])
    await vi.advanceTimersByTimeAsync(1_000)
    expect(seenOnB).toEqual([[], ['files']])
    await vi.advanceTimersByTimeAsync(5_000)
    // Nothing changed since: no more calls.
    expect(seenOnB).toEqual([[], ['files']])
  })
})
