import { DeliveryStats } from '@parley/protocol/admin'
import { describe, expect, it } from 'vitest'
import { deliveryCounters, deliveryGauges } from './delivery-stats'

const stats = DeliveryStats.parse({
  backend: 'postgres',
  pending: 1,
  inflight: 2,
  deadLetters: 3,
  durableSubscriptions: 4,
  counters: {
    enqueued: 10,
    delivered: 11,
    acked: 12,
    nacked: 13,
    redeliveries: 14,
    ackTimeouts: 15,
    deadLettered: 16,
    expired: 17,
    requeued: 18,
    duplicatesSuppressed: 19,
  },
})

describe('delivery figures', () => {
  it('shows the four queue gauges with their values', () => {
    expect(deliveryGauges(stats)).toEqual([
      { name: 'pending', label: 'Pending', value: 1 },
      { name: 'inflight', label: 'In flight', value: 2 },
      { name: 'deadLetters', label: 'Dead letters', value: 3 },
      { name: 'durableSubscriptions', label: 'Durable subscriptions', value: 4 },
    ])
  })

  it('shows every counter of the DeliveryStats schema, each with a label and its own value', () => {
    const figures = deliveryCounters(stats)
    expect(figures.map((figure) => figure.name).sort()).toEqual(
      Object.keys(DeliveryStats.shape.counters.shape).sort(),
    )
    for (const figure of figures) {
      expect(figure.label).not.toBe('')
      expect(figure.value).toBe(stats.counters[figure.name as keyof typeof stats.counters])
    }
  })

  it('has no values while the stats are unavailable, but still every name', () => {
    expect(deliveryGauges(undefined).every((figure) => figure.value === null)).toBe(true)
    expect(deliveryCounters(undefined)).toHaveLength(Object.keys(stats.counters).length)
    expect(deliveryCounters(undefined).every((figure) => figure.value === null)).toBe(true)
  })
})
