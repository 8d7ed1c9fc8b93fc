import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm'
import type { ParleyDatabase, ParleyTransaction } from '../database.js'
import { channelMessages, channelStreams, deliveries, durableSubscriptions, publishKeys } from '../schema.js'
import { newEpoch, publishKeyScope } from './delivery-ids.js'
import type { GroupCommit } from './group-commit.js'
import { newChannelDelivery } from './new-deliveries.js'
import { claimBatchKeys, readHeldResults, storeKeyResults } from './postgres-idempotency-keys.js'
import { chunks, deliveryInsertRow, jsonText, parseJson, resultRows, storableJson } from './postgres-rows.js'
import type {
  DeliveryBackendOptions,
  HistoryStore,
  PublishInput,
  PublishOutcome,
  RetentionPolicy,
  StoredDelivery,
  StoredPublication,
  StreamPosition,
} from './types.js'

const ROWS_PER_INSERT = 2_000
const CHANNELS_PER_TRIM = 500

/**
 * One group-commit transaction of publishes: claims idempotency keys, takes the channels' next offsets
 * (the `channel_streams` row lock orders concurrent nodes), appends the publications, records the keys'
 * first results and creates the durable subscribers' deliveries. All or nothing.
 */
export async function commitPublishes(
  tx: ParleyTransaction,
  inputs: PublishInput[],
  options: DeliveryBackendOptions & { newDeliveryId: () => string },
): Promise<PublishOutcome[]> {
  const { claims, repeatOf, heldElsewhere } = await claimBatchKeys(tx, inputs, {
    scopeOf: (input) => publishKeyScope(input.channel),
    dedupeWindowMs: options.dedupeWindowMs,
  })

  const fresh: number[] = []
  const countByChannel = new Map<string, number>()
  inputs.forEach((input, index) => {
    if (repeatOf.has(index) || heldElsewhere.has(index)) return
    fresh.push(index)
    countByChannel.set(input.channel, (countByChannel.get(input.channel) ?? 0) + 1)
  })

  const publications = new Map<number, StoredPublication>()
  const created = new Map<number, StoredDelivery[]>()
  if (fresh.length > 0) {
    // Sorted, so concurrent transactions lock the channel rows in one order and cannot deadlock.
    const channels = [...countByChannel.keys()].sort()
    const streams = await tx
      .insert(channelStreams)
      .values(
        channels.map((channel) => ({
          channel,
          epoch: newEpoch(),
          topOffset: countByChannel.get(channel) ?? 0,
        })),
      )
      .onConflictDoUpdate({
        target: channelStreams.channel,
        set: { topOffset: sql`${channelStreams.topOffset} + excluded.top_offset` },
      })
      .returning({
        channel: channelStreams.channel,
        epoch: channelStreams.epoch,
        top: channelStreams.topOffset,
      })
    const next = new Map(
      streams.map((stream) => [
        stream.channel,
        { epoch: stream.epoch, offset: Number(stream.top) - (countByChannel.get(stream.channel) ?? 0) + 1 },
      ]),
    )
    for (const index of fresh) {
      const input = inputs[index] as PublishInput
      const stream = next.get(input.channel)
      if (stream === undefined) throw new Error(`No stream row returned for channel ${input.channel}`)
      publications.set(index, {
        channel: input.channel,
        offset: stream.offset,
        epoch: stream.epoch,
        id: input.id,
        source: input.source,
        data: storableJson(input.data),
        timestamp: input.timestamp,
      })
      stream.offset += 1
    }
    const stored = [...publications.values()]
    for (const chunk of chunks(stored, ROWS_PER_INSERT)) {
      await tx.insert(channelMessages).values(
        chunk.map((publication) => ({
          channel: publication.channel,
          offset: publication.offset,
          messageId: publication.id,
          source: publication.source,
          data: publication.data,
          createdAt: publication.timestamp,
        })),
      )
    }

    const firstResults = claims
      .filter((claim) => publications.has(claim.index))
      .map((claim) => ({ scope: claim.scope, key: claim.key, result: publications.get(claim.index) }))
    if (firstResults.length > 0) await storeKeyResults(tx, firstResults)

    // Durable fan-out, in this transaction: the publish is acknowledged only with its deliveries stored.
    const subscriptions = await tx
      .select({ recipient: durableSubscriptions.recipient, channel: durableSubscriptions.channel })
      .from(durableSubscriptions)
      .where(inArray(durableSubscriptions.channel, channels))
      .orderBy(asc(durableSubscriptions.recipient))
    if (subscriptions.length > 0) {
      const recipientsByChannel = new Map<string, string[]>()
      for (const { recipient, channel } of subscriptions) {
        const recipients = recipientsByChannel.get(channel) ?? []
        recipients.push(recipient)
        recipientsByChannel.set(channel, recipients)
      }
      const rows: StoredDelivery[] = []
      for (const [index, publication] of publications) {
        const forPublication = (recipientsByChannel.get(publication.channel) ?? []).map((recipient) =>
          newChannelDelivery(options.newDeliveryId(), recipient, publication, options.messageTtlMs),
        )
        created.set(index, forPublication)
        rows.push(...forPublication)
      }
      for (const chunk of chunks(rows, ROWS_PER_INSERT)) {
        await tx.insert(deliveries).values(chunk.map(deliveryInsertRow))
      }
    }
  }

  const earlier = await readHeldResults(tx, heldElsewhere)
  const firstResultOf = (index: number): StoredPublication =>
    publications.get(index) ?? (earlier.get(index) as StoredPublication)

  return inputs.map((_, index): PublishOutcome => {
    const first = repeatOf.get(index)
    if (first !== undefined)
      return { publication: { ...firstResultOf(first) }, duplicate: true, deliveries: [] }
    if (heldElsewhere.has(index))
      return { publication: firstResultOf(index), duplicate: true, deliveries: [] }
    return { publication: firstResultOf(index), duplicate: false, deliveries: created.get(index) ?? [] }
  })
}

/** Channel history in `channel_streams` / `channel_messages`; publishes go through `publishes` (group commit). */
export function createPostgresHistoryStore(
  database: ParleyDatabase,
  options: DeliveryBackendOptions,
  publishes: GroupCommit<PublishInput, PublishOutcome>,
): HistoryStore {
  const { db } = database
  // Built once (a reconnect herd reads a channel's history per subscriber); one statement, so the stream's
  // top and its rows come from one snapshot even while publishes commit.
  const readSinceQuery = db
    .select({
      epoch: channelStreams.epoch,
      top: channelStreams.topOffset,
      offset: channelMessages.offset,
      messageId: channelMessages.messageId,
      source: channelMessages.source,
      data: jsonText(channelMessages.data),
      createdAt: channelMessages.createdAt,
    })
    .from(channelStreams)
    .leftJoin(
      channelMessages,
      and(
        eq(channelMessages.channel, channelStreams.channel),
        eq(channelStreams.epoch, sql.placeholder('epoch')),
        sql`${channelStreams.topOffset} - ${sql.placeholder('since')} <= ${sql.placeholder('size')}`,
        gt(channelMessages.offset, sql.placeholder('since')),
        gt(channelMessages.offset, sql`${channelStreams.topOffset} - ${sql.placeholder('size')}`),
        gt(channelMessages.createdAt, sql.placeholder('after')),
      ),
    )
    .where(eq(channelStreams.channel, sql.placeholder('channel')))
    .orderBy(asc(channelMessages.offset))
    .prepare('parley_history_read_since')

  async function position(channel: string): Promise<StreamPosition> {
    const read = () =>
      db
        .select({ epoch: channelStreams.epoch, top: channelStreams.topOffset })
        .from(channelStreams)
        .where(eq(channelStreams.channel, channel))
    let [row] = await read()
    if (row === undefined) {
      await db
        .insert(channelStreams)
        .values({ channel, epoch: newEpoch(), topOffset: 0 })
        .onConflictDoNothing()
      ;[row] = await read()
    }
    if (row === undefined) throw new Error(`Channel stream ${channel} could not be created`)
    return { offset: Number(row.top), epoch: row.epoch }
  }

  return {
    publish: (inputs) => publishes.submit(inputs),

    position,

    async readSince(channel, since, now) {
      const { size, ttlMs } = boundedRetention(options.retention(channel))
      const since_ = Math.trunc(since.offset)
      const rows = await readSinceQuery.execute({
        channel,
        epoch: since.epoch,
        since: since_,
        size,
        after: now - ttlMs,
      })
      const [head] = rows
      const current =
        head === undefined ? await position(channel) : { offset: Number(head.top), epoch: head.epoch }
      if (since.epoch !== current.epoch || since_ < 0 || since_ > current.offset) {
        return { recovered: false, position: current }
      }
      const missed = current.offset - since_
      if (missed === 0) return { recovered: true, publications: [], position: current }
      const found = rows.filter((row) => row.offset !== null)
      // Offsets are contiguous, so every missed one is there exactly when the count matches.
      if (found.length !== missed) return { recovered: false, position: current }
      return {
        recovered: true,
        position: current,
        publications: found.map((row) => ({
          channel,
          offset: Number(row.offset),
          epoch: current.epoch,
          id: row.messageId as string,
          source: row.source as string,
          data: parseJson(row.data),
          timestamp: Number(row.createdAt),
        })),
      }
    },

    async trim(now) {
      let removed = 0
      const expiredKeys = await db
        .delete(publishKeys)
        .where(sql`${publishKeys.expiresAt} <= ${now}`)
        .returning({ scope: publishKeys.scope })
      removed += expiredKeys.length
      // Only channels with rows; each one's retention is asked once, then one DELETE per chunk of channels.
      const streams = await db
        .select({ channel: channelStreams.channel, top: channelStreams.topOffset })
        .from(channelStreams)
        .where(
          sql`exists (select 1 from ${channelMessages} where ${channelMessages.channel} = ${channelStreams.channel})`,
        )
      for (const chunk of chunks(streams, CHANNELS_PER_TRIM)) {
        const limits = sql.join(
          chunk.map((stream) => {
            const { size, ttlMs } = boundedRetention(options.retention(stream.channel))
            return sql`(${stream.channel}, ${Number(stream.top) - size}::bigint, ${now - ttlMs}::bigint)`
          }),
          sql`, `,
        )
        const deleted = await db.execute(
          sql`with removed as (delete from ${channelMessages} m using (values ${limits}) as v(channel, keep_above, expired_until) where m.channel = v.channel and (m."offset" <= v.keep_above or m.created_at <= v.expired_until) returning 1) select count(*)::int as count from removed`,
        )
        removed += countOf(deleted)
      }
      return removed
    },
  }
}

/** Retention as finite numbers a statement can carry. */
function boundedRetention(retention: RetentionPolicy): RetentionPolicy {
  const size = Number.isFinite(retention.size)
    ? Math.max(0, Math.trunc(retention.size))
    : Number.MAX_SAFE_INTEGER
  const ttlMs = Number.isFinite(retention.ttlMs)
    ? Math.max(0, Math.trunc(retention.ttlMs))
    : Number.MAX_SAFE_INTEGER / 2
  return { size, ttlMs }
}

/** The `count` of a `select count(*) as count` run through `execute`, on either driver. */
function countOf(result: unknown): number {
  return Number(resultRows<{ count: unknown }>(result)[0]?.count ?? 0)
}
