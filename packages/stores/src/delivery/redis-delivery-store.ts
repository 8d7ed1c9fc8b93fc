import type { DeadLetter, DeadLetterPage, DeliveryKind } from '@parley/protocol'
import { decodeDeadLetterCursor, encodeDeadLetterCursor } from './dead-letter-cursor.js'
import { type DeadReason, deadLetterPageSize, type RequeueHistory, toDeadLetter } from './dead-letters.js'
import { sendKeyScope } from './delivery-ids.js'
import { newDirectDelivery } from './new-deliveries.js'
import type { RedisContext } from './redis-history-store.js'
import type {
  DeadLetterFilter,
  DeliveryBackendOptions,
  DeliveryStore,
  DurableSubscription,
  SendInput,
  SendOutcome,
  StoredDelivery,
} from './types.js'

/** Pending deliveries `due()` looks at per call, at most (not-yet-due retries are skipped over). */
const DUE_SCAN_LIMIT = 5_000
const EXPIRED_PER_SCRIPT = 1_000

/** A delivery read from Redis, with its dead-letter fields. */
interface DeliveryRecord {
  delivery: StoredDelivery
  deadReason: DeadReason | null
  deadAt: number | null
  history: RequeueHistory
}

/**
 * Deliveries in Redis hashes, indexed per recipient (live set, due order, next attempt) and globally
 * (expiry, in flight, dead letters). Every change is one script, so concurrent calls from several gateway
 * nodes see each delivery in exactly one state.
 */
export function createRedisDeliveryStore(
  context: RedisContext,
  options: Pick<DeliveryBackendOptions, 'dedupeWindowMs'>,
): DeliveryStore {
  const { base } = context
  const run = (name: Parameters<RedisContext['run']>[0], args: (string | number)[]) =>
    context.run(name, base, args)

  return {
    async send(inputs: SendInput[]): Promise<SendOutcome[]> {
      if (inputs.length === 0) return []
      // PX takes whole milliseconds.
      const args: (string | number)[] = [Math.ceil(options.dedupeWindowMs), inputs.length]
      const created = inputs.map((input) => newDirectDelivery(input, input.data ?? null))
      inputs.forEach((input, index) => {
        const delivery = created[index] as StoredDelivery
        const key = input.idempotencyKey
        args.push(
          input.deliveryId,
          key === undefined ? '0' : '1',
          key === undefined ? '' : `${sendKeyScope(input.source, input.recipient)}${key}`,
          input.timestamp,
          input.timestamp + options.dedupeWindowMs,
          key === undefined ? '' : JSON.stringify(delivery),
          JSON.stringify(deliveryBody(input.messageId, input.source, delivery)),
          input.recipient,
          input.expiresAt,
          input.receipt ? '1' : '0',
          delivery.kind,
        )
      })
      const results = (await run('parleySend', args)) as ([0] | [1, string])[]
      return results.map((result, index) =>
        result[0] === 1
          ? { delivery: JSON.parse(result[1]) as StoredDelivery, duplicate: true }
          : { delivery: created[index] as StoredDelivery, duplicate: false },
      )
    },

    async subscribeDurable(recipient, channel) {
      await run('parleySubscribe', [recipient, channel])
    },

    async unsubscribeDurable(recipient, channel) {
      return Number(await run('parleyUnsubscribe', [recipient, channel])) === 1
    },

    async durableSubscriptions(recipient) {
      return (await context.connection().smembers(`${base}RSUB:${recipient}`)).sort()
    },

    async listDurableSubscriptions(limit) {
      // The channels' SUB sets are found by a scan of the key base (the operator's read, not a hot path).
      const redis = context.connection()
      const prefix = `${base}SUB:`
      const channels = new Set<string>()
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 500)
        cursor = next
        for (const key of keys) channels.add(key.slice(prefix.length))
      } while (cursor !== '0')
      const listed: DurableSubscription[] = []
      for (const channel of [...channels].sort(byteOrder)) {
        for (const recipient of (await redis.smembers(`${prefix}${channel}`)).sort(byteOrder)) {
          if (listed.length >= limit) return listed
          listed.push({ recipient, channel })
        }
      }
      return listed
    },

    async due(recipient, now, limit) {
      if (limit <= 0) return []
      const found = (await run('parleyDue', [
        recipient,
        now,
        Math.trunc(limit),
        DUE_SCAN_LIMIT,
      ])) as string[][]
      return found.map((fields) => parseDelivery(fields).delivery)
    },

    async nextDueAt(recipient) {
      const [, score] = await context.connection().zrange(`${base}N:${recipient}`, '0', '0', 'WITHSCORES')
      return score === undefined ? undefined : Number(score)
    },

    async queued(recipient) {
      return context.connection().scard(`${base}L:${recipient}`)
    },

    async markSent(ids) {
      if (ids.length > 0) await run('parleyMarkSent', ids)
    },

    async release(ids) {
      if (ids.length > 0) await run('parleyRelease', ids)
    },

    async releaseAll() {
      return Number(await run('parleyReleaseAll', []))
    },

    async liveRecipients(prefix, limit) {
      const found = (await run('parleyLiveRecipients', [prefix, Math.max(0, Math.trunc(limit))])) as string[]
      return found.sort()
    },

    async ack(recipient, ids) {
      if (ids.length === 0) return []
      const settled = (await run('parleyAck', [recipient, ...ids])) as string[][]
      return settled.map((fields) => parseDelivery(fields).delivery)
    },

    async fail(recipient, id, outcome, error, now) {
      const fields = (await run('parleyFail', [
        recipient,
        id,
        'retryAt' in outcome ? 'retry' : 'dead',
        'retryAt' in outcome ? outcome.retryAt : outcome.dead,
        error === null ? '0' : '1',
        error ?? '',
        now,
      ])) as string[] | null
      return fields === null ? undefined : parseDelivery(fields).delivery
    },

    async expire(now) {
      const expired: StoredDelivery[] = []
      for (;;) {
        const batch = (await run('parleyExpire', [now, EXPIRED_PER_SCRIPT])) as string[][]
        for (const fields of batch) expired.push(parseDelivery(fields).delivery)
        if (batch.length < EXPIRED_PER_SCRIPT) return expired
      }
    },

    async listDeadLetters(query): Promise<DeadLetterPage> {
      const limit = deadLetterPageSize(query)
      const cursor = query.cursor === undefined ? undefined : decodeDeadLetterCursor(query.cursor)
      const found = (await run('parleyListDead', [
        cursor === undefined ? '+inf' : cursor.deadAt,
        cursor === undefined ? '' : cursor.id,
        ...filterArgs(query),
        limit + 1,
      ])) as string[][]
      const records = found.map(parseDelivery)
      const page = records.slice(0, limit)
      const last = page.at(-1)
      return {
        deadLetters: page.map(deadLetterOf),
        nextCursor:
          records.length > limit && last !== undefined
            ? encodeDeadLetterCursor({ deadAt: last.deadAt ?? 0, id: last.delivery.id })
            : null,
      }
    },

    async getDeadLetter(id): Promise<DeadLetter | undefined> {
      const fields = await context.connection().hgetall(`${base}D:${id}`)
      if (fields.s !== 'dead') return undefined
      return deadLetterOf(parseDelivery(Object.entries(fields).flat()))
    },

    async requeue(id, now, expiresAt) {
      const fields = (await run('parleyRequeue', [id, now, expiresAt])) as string[] | null
      return fields === null ? undefined : parseDelivery(fields).delivery
    },

    async purgeDeadLetters(target) {
      if ('id' in target) return Number(await run('parleyPurgeDead', [target.id, '', '', '']))
      return Number(await run('parleyPurgeDead', ['', ...filterArgs(target)]))
    },

    async counts() {
      const replies =
        (await context
          .connection()
          .multi()
          .zcard(`${base}A`)
          .scard(`${base}I`)
          .zcard(`${base}X`)
          .get(`${base}subcount`)
          .exec()) ?? []
      const [live, inflight, dead, subscriptions] = replies.map(([error, value]) => {
        if (error !== null) throw error
        return Number(value ?? 0)
      })
      return {
        pending: (live ?? 0) - (inflight ?? 0),
        inflight: inflight ?? 0,
        deadLetters: dead ?? 0,
        durableSubscriptions: subscriptions ?? 0,
      }
    },
  }
}

/** A dead-letter filter as script arguments: '' for any, else '=' and the value. */
function filterArgs(filter: DeadLetterFilter): string[] {
  return [filter.recipient, filter.channel, filter.kind].map((value) =>
    value === undefined ? '' : `=${value}`,
  )
}

function deadLetterOf(record: DeliveryRecord): DeadLetter {
  return toDeadLetter(record.delivery, record.deadReason ?? 'rejected', record.deadAt ?? 0, record.history)
}

/** A direct delivery's body: the agent tags are appended only when the message has them. */
type DeliveryBody = [string, string, unknown, (string | null)?, (string | null)?]

function deliveryBody(messageId: string, source: string, delivery: StoredDelivery): DeliveryBody {
  const body: DeliveryBody = [messageId, source, delivery.data]
  if (delivery.fromAgent !== null || delivery.traceId !== null)
    body.push(delivery.fromAgent, delivery.traceId)
  return body
}

/** A delivery hash (HGETALL as a flat field/value list) as a stored delivery. */
function parseDelivery(flat: string[]): DeliveryRecord {
  const fields = new Map<string, string>()
  for (let index = 0; index + 1 < flat.length; index += 2) {
    fields.set(flat[index] as string, flat[index + 1] as string)
  }
  const text = (name: string): string => fields.get(name) ?? ''
  const number = (name: string): number => Number(fields.get(name) ?? 0)
  const [messageId, source, data, fromAgent, traceId] = JSON.parse(text('b')) as DeliveryBody
  const channel = fields.get('ch')
  const deadAt = fields.get('da')
  return {
    delivery: {
      id: text('id'),
      messageId,
      kind: text('k') as DeliveryKind,
      recipient: text('r'),
      source,
      channel: channel ?? null,
      offset: fields.has('o') ? number('o') : null,
      epoch: fields.get('e') ?? null,
      data,
      createdAt: number('c'),
      expiresAt: number('x'),
      attempts: number('a'),
      failures: number('f'),
      nextAttemptAt: number('n'),
      state: text('s') as StoredDelivery['state'],
      receipt: text('rc') === '1',
      lastError: fields.get('l') ?? null,
      fromAgent: fromAgent ?? null,
      traceId: traceId ?? null,
    },
    deadReason: (fields.get('dr') as DeadReason | undefined) ?? null,
    deadAt: deadAt === undefined ? null : Number(deadAt),
    history: {
      requeues: number('rq'),
      requeuedAt: fields.has('rqa') ? number('rqa') : null,
      attemptsBeforeRequeue: number('rqb'),
    },
  }
}

/** A Redis glob pattern matching `text` literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
