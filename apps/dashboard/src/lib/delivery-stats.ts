import type { DeliveryStats } from '@parley/protocol/admin'

type CounterName = keyof DeliveryStats['counters']
type GaugeName = 'pending' | 'inflight' | 'deadLetters' | 'durableSubscriptions'

/** One number on the Deliveries page; `name` is the schema's field name and the `delivery-counter-<name>` test id. */
export interface DeliveryFigure {
  name: string
  label: string
  /** Null while the stats are loading or unavailable. */
  value: number | null
}

/** What is in the queues right now. */
const GAUGE_LABELS: Record<GaugeName, string> = {
  pending: 'Pending',
  inflight: 'In flight',
  deadLetters: 'Dead letters',
  durableSubscriptions: 'Durable subscriptions',
}

// A Record over the schema's keys: a counter added to `DeliveryStats` fails the typecheck until it has a label.
const COUNTER_LABELS: Record<CounterName, string> = {
  enqueued: 'Enqueued',
  delivered: 'Delivered',
  acked: 'Acked',
  nacked: 'Nacked',
  redeliveries: 'Redeliveries',
  ackTimeouts: 'Ack timeouts',
  deadLettered: 'Dead-lettered',
  expired: 'Expired',
  requeued: 'Requeued',
  duplicatesSuppressed: 'Duplicates suppressed',
}

export function deliveryGauges(stats: DeliveryStats | undefined): DeliveryFigure[] {
  return (Object.keys(GAUGE_LABELS) as GaugeName[]).map((name) => ({
    name,
    label: GAUGE_LABELS[name],
    value: stats === undefined ? null : stats[name],
  }))
}

/** The counters since the gateway started, in the schema's order of a delivery's life. */
export function deliveryCounters(stats: DeliveryStats | undefined): DeliveryFigure[] {
  return (Object.keys(COUNTER_LABELS) as CounterName[]).map((name) => ({
    name,
    label: COUNTER_LABELS[name],
    value: stats === undefined ? null : stats.counters[name],
  }))
}
