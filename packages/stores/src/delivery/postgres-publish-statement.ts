import { type SQL, sql } from 'drizzle-orm'
import type { ParleyDb } from '../database.js'
import { newEpoch } from './delivery-ids.js'
import { newChannelDelivery } from './new-deliveries.js'
import { resultRows, storableJson } from './postgres-rows.js'
import type { PublishInput, PublishOutcome, StoredDelivery, StoredPublication } from './types.js'

/**
 * A batch of publishes without idempotency keys as one statement, committed on its own: no BEGIN, no
 * COMMIT and no round trip between the statements of a transaction. The channel's `channel_streams` row
 * (locked by the upsert, in channel order) is held only while the statement runs and commits, instead of
 * across four round trips, which is what bounds the publishes per second of a busy channel.
 *
 * The durable subscribers' deliveries need ids from the caller's generator (`newDeliveryId`) before the
 * statement knows how many there are, so the caller supplies as many as it expects (`ids`). When
 * the database holds more durable subscriptions than that, the statement writes nothing (every write is
 * conditional on `enough`) and answers how many ids it needs; the caller then runs it again.
 *
 * All parts of one statement read one snapshot, taken when it starts: the durable subscriptions it sees
 * are those committed before it, as the transaction's select saw those committed before it (a
 * subscription committed while a publish is in flight misses that publish with either).
 */
function publishBatch(rowsJson: string, deliveryIdsJson: string, messageTtlMs: number): SQL {
  return sql`
with batch as (
  select * from json_to_recordset(${rowsJson}::json) as b(i int, c text, e text, m text, s text, d jsonb, t bigint)
),
ids as (
  select ${deliveryIdsJson}::json as a
),
counts as (
  select c, min(e) as e, count(*)::bigint as n from batch group by c
),
needed as (
  select coalesce(sum(k.n), 0)::bigint as n
  from counts k join durable_subscriptions ds on ds.channel = k.c
),
enough as (
  select (select n from needed) <= (select json_array_length(a) from ids) as ok
),
streams as (
  insert into channel_streams (channel, epoch, top_offset)
  select c, e, n from counts where (select ok from enough) order by c
  on conflict (channel) do update set top_offset = channel_streams.top_offset + excluded.top_offset
  returning channel, epoch, top_offset
),
numbered as (
  select b.i, b.c, s.epoch,
    s.top_offset - k.n + row_number() over (partition by b.c order by b.i) as o,
    b.m, b.s, b.d, b.t
  from batch b join counts k on k.c = b.c join streams s on s.channel = b.c
),
stored as (
  insert into channel_messages (channel, "offset", message_id, source, data, created_at)
  select c, o, m, s, d, t from numbered
),
fanout as (
  select n.i, ds.recipient, (select a from ids) ->> (row_number() over (order by n.i, ds.recipient) - 1)::int as id
  from numbered n join durable_subscriptions ds on ds.channel = n.c
),
created as (
  insert into deliveries (id, message_id, kind, recipient, source, channel, "offset", epoch, data,
    created_at, expires_at, attempts, failures, next_attempt_at, state, receipt)
  select f.id, n.m, 'channel', f.recipient, n.s, n.c, n.o, n.epoch, n.d,
    n.t, (n.t + ${messageTtlMs}::float8)::bigint, 0, 0, n.t, 'pending', false
  from fanout f join numbered n on n.i = f.i
)
select 'needed' as kind, (select n from needed) as i, null::text as epoch, null::bigint as "offset",
  null::text as recipient, null::text as id
union all
select 'publication', i, epoch, o, null, null from numbered
union all
select 'delivery', i, null, null, recipient, id from fanout`
}

interface BatchRow {
  kind: 'needed' | 'publication' | 'delivery'
  i: number | string
  epoch: string | null
  offset: number | string | null
  recipient: string | null
  id: string | null
}

/** What one run of the statement gave: the outcomes, or how many delivery ids it needed. */
type BatchRun = { outcomes: PublishOutcome[] } | { neededIds: number }

/** The runs of one batch before it goes the transaction's way (durable subscriptions changing meanwhile). */
const MAX_RUNS = 3

export interface PublishStatementOptions {
  messageTtlMs: number
  newDeliveryId: () => string
}

/**
 * Publishes batches without idempotency keys in one statement each (see `publishBatch`), remembering per
 * channel how many durable subscribers the last batch found, so the next one supplies that many delivery
 * ids at once. Undefined when the statement could not settle the batch: the caller commits it another way.
 */
export function createPublishStatement(db: ParleyDb, options: PublishStatementOptions) {
  /** Channels with durable subscribers, as of the last batch that published on them. */
  const durableCounts = new Map<string, number>()

  async function run(inputs: PublishInput[], deliveryIds: string[]): Promise<BatchRun> {
    const epochs = new Map<string, string>()
    const rows = inputs.map((input, index) => {
      let epoch = epochs.get(input.channel)
      if (epoch === undefined) {
        epoch = newEpoch()
        epochs.set(input.channel, epoch)
      }
      return {
        i: index,
        c: input.channel,
        e: epoch,
        m: input.id,
        s: input.source,
        d: storableJson(input.data),
        t: input.timestamp,
      }
    })
    const result = await db.execute(
      publishBatch(JSON.stringify(rows), JSON.stringify(deliveryIds), options.messageTtlMs),
    )
    return readBatch(inputs, resultRows<BatchRow>(result), options.messageTtlMs)
  }

  return {
    /** Outcomes in input order, or undefined after `MAX_RUNS` runs that each found more subscribers. */
    async publish(inputs: PublishInput[]): Promise<PublishOutcome[] | undefined> {
      let expected = 0
      for (const input of inputs) expected += durableCounts.get(input.channel) ?? 0
      for (let attempt = 0; attempt < MAX_RUNS; attempt += 1) {
        const ids = Array.from({ length: expected }, () => options.newDeliveryId())
        const outcome = await run(inputs, ids)
        if ('neededIds' in outcome) {
          expected = outcome.neededIds
          continue
        }
        noteDurableCounts(inputs, outcome.outcomes)
        return outcome.outcomes
      }
      return undefined
    },
    /** Learns the durable subscriber counts from a batch committed another way. */
    noteDurableCounts,
  }

  function noteDurableCounts(inputs: PublishInput[], outcomes: PublishOutcome[]): void {
    const seen = new Map<string, number>()
    outcomes.forEach((outcome, index) => {
      if (outcome.duplicate) return
      const channel = (inputs[index] as PublishInput).channel
      seen.set(channel, outcome.deliveries.length)
    })
    for (const [channel, count] of seen) {
      if (count > 0) durableCounts.set(channel, count)
      else durableCounts.delete(channel)
    }
  }
}

export type PublishStatement = ReturnType<typeof createPublishStatement>

function readBatch(inputs: PublishInput[], rows: BatchRow[], messageTtlMs: number): BatchRun {
  const publications: (StoredPublication | undefined)[] = new Array(inputs.length)
  const created: StoredDelivery[][] = inputs.map(() => [])
  let stored = 0
  let needed = 0
  for (const row of rows) {
    if (row.kind === 'needed') needed = Number(row.i)
    else if (row.kind === 'publication') {
      const index = Number(row.i)
      const input = inputs[index] as PublishInput
      publications[index] = {
        channel: input.channel,
        offset: Number(row.offset),
        epoch: row.epoch as string,
        id: input.id,
        source: input.source,
        data: storableJson(input.data),
        timestamp: input.timestamp,
      }
      stored += 1
    }
  }
  if (stored === 0) return { neededIds: needed }
  if (stored !== inputs.length) throw new Error('publish statement: one row per publication expected')
  for (const row of rows) {
    if (row.kind !== 'delivery') continue
    const index = Number(row.i)
    const publication = publications[index] as StoredPublication
    ;(created[index] as StoredDelivery[]).push(
      newChannelDelivery(row.id as string, row.recipient as string, publication, messageTtlMs),
    )
  }
  return {
    outcomes: publications.map((publication, index) => ({
      publication: publication as StoredPublication,
      duplicate: false,
      deliveries: created[index] as StoredDelivery[],
    })),
  }
}
