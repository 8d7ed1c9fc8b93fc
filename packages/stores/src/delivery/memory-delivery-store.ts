import type { DeadLetter, DeadLetterPage } from '@parley/protocol'
import { decodeDeadLetterCursor, encodeDeadLetterCursor } from './dead-letter-cursor.js'
import {
  type DeadReason,
  deadLetterPageSize,
  NEVER_REQUEUED,
  type RequeueHistory,
  requeuedOnce,
  toDeadLetter,
} from './dead-letters.js'
import { newDeliveryId, sendKeyScope } from './delivery-ids.js'
import { createMemoryKeys } from './memory-idempotency-keys.js'
import { newChannelDelivery, newDirectDelivery } from './new-deliveries.js'
import type {
  DeadLetterFilter,
  DeadLetterListQuery,
  DeliveryBackendOptions,
  DeliveryCounts,
  DeliveryStore,
  DurableSubscription,
  FailOutcome,
  SendInput,
  SendOutcome,
  StoredDelivery,
  StoredPublication,
} from './types.js'

/** A delivery as kept here: the stored fields plus what ordering and the dead-letter queue need. */
interface Entry {
  delivery: StoredDelivery
  /** Creation order, the last tie-breaker of `due()`. */
  seq: number
  deadReason: DeadReason | null
  deadAt: number | null
  history: RequeueHistory
}

export interface MemoryDeliveryStore extends DeliveryStore {
  /** Creates one delivery per durable subscriber of the publication's channel (called by the history). */
  fanOut(publication: StoredPublication): StoredDelivery[]
}

/**
 * Deliveries in maps: live ones (pending and in flight) indexed per recipient so `due()` and `queued()`
 * only look at that recipient's deliveries, dead letters apart.
 */
export function createMemoryDeliveryStore(
  options: Pick<DeliveryBackendOptions, 'dedupeWindowMs' | 'messageTtlMs' | 'newDeliveryId'>,
): MemoryDeliveryStore {
  const createDeliveryId = options.newDeliveryId ?? newDeliveryId
  const live = new Map<string, Entry>()
  const liveByRecipient = new Map<string, Map<string, Entry>>()
  const dead = new Map<string, Entry>()
  const subscribersByChannel = new Map<string, Set<string>>()
  const channelsByRecipient = new Map<string, Set<string>>()
  const sendKeys = createMemoryKeys<StoredDelivery>()
  let seq = 0
  let durableSubscriptionCount = 0
  let inflightCount = 0

  function addLive(delivery: StoredDelivery, history: RequeueHistory = NEVER_REQUEUED): void {
    if (live.has(delivery.id) || dead.has(delivery.id)) {
      throw new Error(`Delivery ${delivery.id} already exists`)
    }
    seq += 1
    const entry: Entry = { delivery, seq, deadReason: null, deadAt: null, history }
    live.set(delivery.id, entry)
    let ofRecipient = liveByRecipient.get(delivery.recipient)
    if (ofRecipient === undefined) {
      ofRecipient = new Map()
      liveByRecipient.set(delivery.recipient, ofRecipient)
    }
    ofRecipient.set(delivery.id, entry)
    if (delivery.state === 'inflight') inflightCount += 1
  }

  function removeLive(entry: Entry): void {
    live.delete(entry.delivery.id)
    const ofRecipient = liveByRecipient.get(entry.delivery.recipient)
    ofRecipient?.delete(entry.delivery.id)
    if (ofRecipient?.size === 0) liveByRecipient.delete(entry.delivery.recipient)
    if (entry.delivery.state === 'inflight') inflightCount -= 1
  }

  function setState(entry: Entry, state: StoredDelivery['state']): void {
    if (entry.delivery.state === 'inflight') inflightCount -= 1
    if (state === 'inflight') inflightCount += 1
    entry.delivery.state = state
  }

  function liveEntryOf(recipient: string, id: string): Entry | undefined {
    return liveByRecipient.get(recipient)?.get(id)
  }

  function matches(entry: Entry, filter: DeadLetterFilter): boolean {
    const { delivery } = entry
    if (filter.recipient !== undefined && delivery.recipient !== filter.recipient) return false
    if (filter.channel !== undefined && delivery.channel !== filter.channel) return false
    if (filter.kind !== undefined && delivery.kind !== filter.kind) return false
    return true
  }

  function deadLetterOf(entry: Entry): DeadLetter {
    return toDeadLetter(entry.delivery, entry.deadReason ?? 'rejected', entry.deadAt ?? 0, entry.history)
  }

  return {
    fanOut(publication: StoredPublication): StoredDelivery[] {
      const subscribers = subscribersByChannel.get(publication.channel)
      if (subscribers === undefined) return []
      const created: StoredDelivery[] = []
      for (const recipient of subscribers) {
        const delivery = newChannelDelivery(createDeliveryId(), recipient, publication, options.messageTtlMs)
        addLive(delivery)
        created.push({ ...delivery })
      }
      return created
    },

    async send(inputs: SendInput[]): Promise<SendOutcome[]> {
      // All or none, as in one transaction: a taken delivery id refuses the whole call before any change.
      // Repeats of a live idempotency key store nothing, so their ids are not checked.
      const ids = new Set<string>()
      const keysInCall = new Set<string>()
      for (const input of inputs) {
        if (input.idempotencyKey !== undefined) {
          const key = `${sendKeyScope(input.source, input.recipient)}${input.idempotencyKey}`
          const repeat = keysInCall.has(key) || sendKeys.live(key, input.timestamp) !== undefined
          keysInCall.add(key)
          if (repeat) continue
        }
        if (live.has(input.deliveryId) || dead.has(input.deliveryId) || ids.has(input.deliveryId)) {
          throw new Error(`Delivery ${input.deliveryId} already exists`)
        }
        ids.add(input.deliveryId)
      }
      const outcomes: SendOutcome[] = []
      for (const input of inputs) {
        sendKeys.sweep(input.timestamp)
        const key =
          input.idempotencyKey === undefined
            ? undefined
            : `${sendKeyScope(input.source, input.recipient)}${input.idempotencyKey}`
        const first = key === undefined ? undefined : sendKeys.live(key, input.timestamp)
        if (first !== undefined) {
          outcomes.push({ delivery: { ...first }, duplicate: true })
          continue
        }
        const delivery = newDirectDelivery(input)
        addLive(delivery)
        if (key !== undefined) {
          sendKeys.remember(key, { ...delivery }, input.timestamp + options.dedupeWindowMs)
        }
        outcomes.push({ delivery: { ...delivery }, duplicate: false })
      }
      return outcomes
    },

    async subscribeDurable(recipient: string, channel: string): Promise<void> {
      let subscribers = subscribersByChannel.get(channel)
      if (subscribers === undefined) {
        subscribers = new Set()
        subscribersByChannel.set(channel, subscribers)
      }
      if (subscribers.has(recipient)) return
      subscribers.add(recipient)
      let channels = channelsByRecipient.get(recipient)
      if (channels === undefined) {
        channels = new Set()
        channelsByRecipient.set(recipient, channels)
      }
      channels.add(channel)
      durableSubscriptionCount += 1
    },

    async unsubscribeDurable(recipient: string, channel: string): Promise<boolean> {
      const subscribers = subscribersByChannel.get(channel)
      if (subscribers === undefined || !subscribers.delete(recipient)) return false
      if (subscribers.size === 0) subscribersByChannel.delete(channel)
      const channels = channelsByRecipient.get(recipient)
      channels?.delete(channel)
      if (channels?.size === 0) channelsByRecipient.delete(recipient)
      durableSubscriptionCount -= 1
      return true
    },

    async durableSubscriptions(recipient: string): Promise<string[]> {
      return [...(channelsByRecipient.get(recipient) ?? [])].sort()
    },

    async listDurableSubscriptions(limit: number): Promise<DurableSubscription[]> {
      const listed: DurableSubscription[] = []
      for (const channel of [...subscribersByChannel.keys()].sort()) {
        for (const recipient of [...(subscribersByChannel.get(channel) ?? [])].sort()) {
          if (listed.length >= limit) return listed
          listed.push({ recipient, channel })
        }
      }
      return listed
    },

    async due(recipient: string, now: number, limit: number): Promise<StoredDelivery[]> {
      const ofRecipient = liveByRecipient.get(recipient)
      if (ofRecipient === undefined || limit <= 0) return []
      const ready: Entry[] = []
      for (const entry of ofRecipient.values()) {
        const { delivery } = entry
        if (delivery.state === 'pending' && delivery.nextAttemptAt <= now && delivery.expiresAt > now) {
          ready.push(entry)
        }
      }
      ready.sort(dueOrder)
      return ready.slice(0, limit).map((entry) => ({ ...entry.delivery }))
    },

    async nextDueAt(recipient: string): Promise<number | undefined> {
      let earliest: number | undefined
      for (const { delivery } of liveByRecipient.get(recipient)?.values() ?? []) {
        if (delivery.state !== 'pending') continue
        if (earliest === undefined || delivery.nextAttemptAt < earliest) earliest = delivery.nextAttemptAt
      }
      return earliest
    },

    async queued(recipient: string): Promise<number> {
      return liveByRecipient.get(recipient)?.size ?? 0
    },

    async markSent(ids: string[]): Promise<void> {
      for (const id of ids) {
        const entry = live.get(id)
        if (entry === undefined) continue
        setState(entry, 'inflight')
        entry.delivery.attempts += 1
      }
    },

    async release(ids: string[]): Promise<void> {
      for (const id of ids) {
        const entry = live.get(id)
        if (entry?.delivery.state === 'inflight') setState(entry, 'pending')
      }
    },

    async releaseAll(): Promise<number> {
      let released = 0
      for (const entry of live.values()) {
        if (entry.delivery.state !== 'inflight') continue
        setState(entry, 'pending')
        released += 1
      }
      return released
    },

    async liveRecipients(prefix: string, limit: number): Promise<string[]> {
      const found = new Set<string>()
      for (const { delivery } of live.values()) {
        if (delivery.recipient.startsWith(prefix)) found.add(delivery.recipient)
      }
      return [...found].sort().slice(0, Math.max(0, Math.trunc(limit)))
    },

    async ack(recipient: string, ids: string[]): Promise<StoredDelivery[]> {
      const settled: StoredDelivery[] = []
      for (const id of ids) {
        const entry = liveEntryOf(recipient, id)
        if (entry === undefined) continue
        removeLive(entry)
        settled.push({ ...entry.delivery })
      }
      return settled
    },

    async fail(
      recipient: string,
      id: string,
      outcome: FailOutcome,
      error: string | null,
      now: number,
    ): Promise<StoredDelivery | undefined> {
      const entry = liveEntryOf(recipient, id)
      if (entry === undefined) return undefined
      entry.delivery.failures += 1
      entry.delivery.lastError = error
      if ('retryAt' in outcome) {
        setState(entry, 'pending')
        entry.delivery.nextAttemptAt = outcome.retryAt
        return { ...entry.delivery }
      }
      removeLive(entry)
      entry.delivery.state = 'dead'
      entry.deadReason = outcome.dead
      entry.deadAt = now
      dead.set(id, entry)
      return { ...entry.delivery }
    },

    async expire(now: number): Promise<StoredDelivery[]> {
      const expired: StoredDelivery[] = []
      for (const entry of live.values()) {
        if (entry.delivery.expiresAt > now) continue
        removeLive(entry)
        expired.push({ ...entry.delivery })
      }
      return expired
    },

    async listDeadLetters(query: DeadLetterListQuery): Promise<DeadLetterPage> {
      const limit = deadLetterPageSize(query)
      const cursor = query.cursor === undefined ? undefined : decodeDeadLetterCursor(query.cursor)
      const matching: Entry[] = []
      for (const entry of dead.values()) {
        if (!matches(entry, query)) continue
        const deadAt = entry.deadAt ?? 0
        if (
          cursor !== undefined &&
          !(deadAt < cursor.deadAt || (deadAt === cursor.deadAt && entry.delivery.id < cursor.id))
        ) {
          continue
        }
        matching.push(entry)
      }
      matching.sort(newestDeadFirst)
      const page = matching.slice(0, limit)
      const last = page.at(-1)
      return {
        deadLetters: page.map(deadLetterOf),
        nextCursor:
          matching.length > limit && last !== undefined
            ? encodeDeadLetterCursor({ deadAt: last.deadAt ?? 0, id: last.delivery.id })
            : null,
      }
    },

    async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
      const entry = dead.get(id)
      return entry === undefined ? undefined : deadLetterOf(entry)
    },

    async requeue(id: string, now: number, expiresAt: number): Promise<StoredDelivery | undefined> {
      const entry = dead.get(id)
      if (entry === undefined) return undefined
      dead.delete(id)
      const delivery: StoredDelivery = {
        ...entry.delivery,
        state: 'pending',
        failures: 0,
        nextAttemptAt: now,
        expiresAt,
      }
      addLive(delivery, requeuedOnce(entry.history, entry.delivery, now))
      return { ...delivery }
    },

    async purgeDeadLetters(target: { id: string } | DeadLetterFilter): Promise<number> {
      if ('id' in target) return dead.delete(target.id) ? 1 : 0
      let purged = 0
      for (const [id, entry] of dead) {
        if (!matches(entry, target)) continue
        dead.delete(id)
        purged += 1
      }
      return purged
    },

    async counts(): Promise<DeliveryCounts> {
      return {
        pending: live.size - inflightCount,
        inflight: inflightCount,
        deadLetters: dead.size,
        durableSubscriptions: durableSubscriptionCount,
      }
    },
  }
}

/** Oldest first: by creation, then offset (direct messages first), then insertion. */
function dueOrder(a: Entry, b: Entry): number {
  if (a.delivery.createdAt !== b.delivery.createdAt) return a.delivery.createdAt - b.delivery.createdAt
  const offsetA = a.delivery.offset ?? 0
  const offsetB = b.delivery.offset ?? 0
  if (offsetA !== offsetB) return offsetA - offsetB
  return a.seq - b.seq
}

/** Newest first by (deadAt, id), the order the cursor walks. */
function newestDeadFirst(a: Entry, b: Entry): number {
  const deadA = a.deadAt ?? 0
  const deadB = b.deadAt ?? 0
  if (deadA !== deadB) return deadB - deadA
  return a.delivery.id < b.delivery.id ? 1 : a.delivery.id > b.delivery.id ? -1 : 0
}
