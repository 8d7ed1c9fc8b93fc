import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import {
  createConnectionCapacity,
  FILE_DESCRIPTOR_RESERVE,
  HEAP_REFUSAL_RATIO,
  type ProcessResources,
  parseFileDescriptorLimit,
  processResources,
} from './connection-capacity.js'

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
`

function resources(fileDescriptors: number | undefined, usedHeap = 0): ProcessResources {
  return {
    fileDescriptorLimit: () => fileDescriptors,
    heap: () => ({ usedBytes: usedHeap, limitBytes: 1000 }),
  }
}

const logger = pino({ level: 'silent' })

describe('connection capacity', () => {
  it('reads the soft open-file limit from /proc/self/limits text, and nothing from unlimited or garbage', () => {
    expect(parseFileDescriptorLimit(LIMITS)).toBe(20_000)
    expect(
      parseFileDescriptorLimit(LIMITS.replace('20000                20000', 'unlimited  unlimited')),
    ).toBe(undefined)
    expect(parseFileDescriptorLimit('')).toBe(undefined)
  })

  it("reads this process's own limit on Linux, and falls back to none elsewhere", () => {
    const limit = processResources.fileDescriptorLimit()
    if (process.platform === 'linux') expect(limit).toBeGreaterThan(0)
    else expect(limit).toBe(undefined)
    const heap = processResources.heap()
    expect(heap.usedBytes).toBeGreaterThan(0)
    expect(heap.limitBytes).toBeGreaterThan(heap.usedBytes)
  })

  it('caps connections at the open-file limit minus the reserve when that is below maxConnections', () => {
    const capacity = createConnectionCapacity({
      maxConnections: 1000,
      resources: resources(FILE_DESCRIPTOR_RESERVE + 10),
      logger,
    })
    expect(capacity.limit).toBe(10)
    expect(capacity.refusal(9)).toBe(undefined)
    expect(capacity.refusal(10)).toMatchObject({ code: 'server_full', retryable: true, retryAfterMs: 5_000 })
  })

  it('keeps maxConnections when the open-file limit is higher or unknown', () => {
    expect(createConnectionCapacity({ maxConnections: 50, resources: resources(20_000), logger }).limit).toBe(
      50,
    )
    expect(
      createConnectionCapacity({ maxConnections: 50, resources: resources(undefined), logger }).limit,
    ).toBe(50)
  })

  it('admits nothing when the reserve takes the whole open-file limit', () => {
    const capacity = createConnectionCapacity({ maxConnections: 50, resources: resources(100), logger })
    expect(capacity.limit).toBe(0)
    expect(capacity.refusal(0)?.code).toBe('server_full')
  })

  it('refuses while the heap is above its refusal ratio, whatever the count', () => {
    const pressed = createConnectionCapacity({
      maxConnections: 50,
      resources: resources(undefined, 1000 * HEAP_REFUSAL_RATIO),
      logger,
    })
    expect(pressed.refusal(0)).toMatchObject({
      code: 'server_full',
      message: 'the gateway is short of memory',
    })
    const relaxed = createConnectionCapacity({
      maxConnections: 50,
      resources: resources(undefined, 1000 * HEAP_REFUSAL_RATIO - 1),
      logger,
    })
    expect(relaxed.refusal(0)).toBe(undefined)
  })
})
