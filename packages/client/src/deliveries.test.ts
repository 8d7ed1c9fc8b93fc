import { describe, expect, it } from 'vitest'
import { DeliveryTracker, type NackOptions } from './deliveries.js'

function tracker(capacity?: number): {
  tracker: DeliveryTracker
  acks: string[]
  nacks: Array<[string, NackOptions]>
} {
  const acks: string[] = []
  const nacks: Array<[string, NackOptions]> = []
  const outbox = {
    ack: (id: string) => acks.push(id),
    nack: (id: string, options: NackOptions) => nacks.push([id, options]),
  }
  return { tracker: new DeliveryTracker(outbox, capacity), acks, nacks }
}

describe('DeliveryTracker', () => {
  it('settles every delivery id folded into an open message', () => {
    const { tracker: deliveries, acks } = tracker()
    const controls = deliveries.receive('m1', 'd1')
    expect(deliveries.receive('m1', 'd1-again')).toBeUndefined()
    controls?.ack()
    expect(acks).toEqual(['d1', 'd1-again'])
  })

  it('clamps the nack delay to 0..24 h and cuts the reason to 500 characters', () => {
    const { tracker: deliveries, nacks } = tracker()
    deliveries.receive('m1', 'd1')?.nack({ delayMs: -5 })
    deliveries.receive('m2', 'd2')?.nack({ delayMs: 1e12, reason: 'x'.repeat(600) })
    deliveries.receive('m3', 'd3')?.nack({ delayMs: 12.6 })
    expect(nacks).toEqual([
      ['d1', { delayMs: 0 }],
      ['d2', { delayMs: 86_400_000, reason: 'x'.repeat(500) }],
      ['d3', { delayMs: 13 }],
    ])
  })

  it('remembers a bounded number of handled messages', () => {
    const { tracker: deliveries, acks } = tracker(2)
    for (const key of ['m1', 'm2', 'm3']) deliveries.receive(key, `d-${key}`)?.ack()
    expect(deliveries.isKnown('m1')).toBe(false)
    expect(deliveries.receive('m3', 'd-m3')).toBeUndefined()
    expect(acks).toEqual(['d-m1', 'd-m2', 'd-m3', 'd-m3'])
  })
})
