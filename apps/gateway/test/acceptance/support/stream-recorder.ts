import type { ChannelMessage, PushClient, SubscribedInfo } from '@parley/client'

/** What one subscriber's handler saw on one channel. */
export interface ChannelRecord {
  /** Offset of the subscribe reply that started the subscription: the handler must see every one after it. */
  startOffset: number | undefined
  /** Offset of the first message the handler ran for. */
  firstOffset: number | undefined
  /** Offset of the last message the handler ran for. */
  lastOffset: number | undefined
  /** Handler calls. */
  calls: number
  /** Handler calls per message id; a value above 1 is a duplicate. */
  callsById: Map<string, number>
  /** Offsets in the order the handler saw them (kept when asked: the crash test checks every one). */
  offsets: number[] | undefined
  /** Messages whose offset was not the previous one plus one: gaps, duplicates, reordering. */
  breaks: { previous: number; offset: number; replayed: boolean }[]
  /** Messages that came with a different epoch than the first one. */
  epochChanges: number
  epoch: string | undefined
}

/**
 * Records, per channel, every run of a subscriber's `channel_message` handler and every `subscribed`
 * event, for checks at the end (no gap, no duplicate, recovered every time).
 */
export class StreamRecorder {
  readonly channels = new Map<string, ChannelRecord>()
  readonly subscribed: SubscribedInfo[] = []
  connects = 0
  disconnects = 0
  connected = false

  constructor(
    readonly client: PushClient,
    readonly options: {
      keepOffsets?: boolean
      onChange?: () => void
      onMessage?: (message: ChannelMessage) => void
    } = {},
  ) {
    client.on('subscribed', (info) => {
      this.subscribed.push(info)
      const record = this.record(info.channel)
      // The first subscribe's position is where the stream starts for this subscriber.
      if (!info.wasRecovering && record.startOffset === undefined && info.offset !== undefined) {
        record.startOffset = info.offset
        record.epoch ??= info.epoch
      }
      this.options.onChange?.()
    })
    client.on('channel_message', (message) => {
      const record = this.record(message.channel)
      const offset = message.offset
      if (offset === undefined) throw new Error(`message without offset on ${message.channel}`)
      record.calls += 1
      record.callsById.set(message.id, (record.callsById.get(message.id) ?? 0) + 1)
      record.offsets?.push(offset)
      if (record.epoch !== undefined && message.epoch !== record.epoch) record.epochChanges += 1
      record.epoch ??= message.epoch
      record.firstOffset ??= offset
      // Checked against the previous message only: the first one is checked against `startOffset` at the end,
      // since a live frame may reach the handler before the reply's `subscribed` event does.
      const previous = record.lastOffset
      if (previous !== undefined && offset !== previous + 1) {
        record.breaks.push({ previous, offset, replayed: message.replayed === true })
      }
      record.lastOffset = offset
      this.options.onMessage?.(message)
      this.options.onChange?.()
    })
    client.on('connect', () => {
      this.connects += 1
      this.connected = true
      this.options.onChange?.()
    })
    client.on('disconnect', () => {
      this.disconnects += 1
      this.connected = false
      this.options.onChange?.()
    })
  }

  record(channel: string): ChannelRecord {
    let record = this.channels.get(channel)
    if (record === undefined) {
      record = {
        startOffset: undefined,
        firstOffset: undefined,
        lastOffset: undefined,
        calls: 0,
        callsById: new Map(),
        offsets: this.options.keepOffsets ? [] : undefined,
        breaks: [],
        epochChanges: 0,
        epoch: undefined,
      }
      this.channels.set(channel, record)
    }
    return record
  }

  /** Message ids the handler ran for more than once. */
  duplicates(channel: string): string[] {
    const record = this.channels.get(channel)
    if (record === undefined) return []
    return [...record.callsById].filter(([, calls]) => calls > 1).map(([id]) => id)
  }

  /** `subscribed` events of the client's own resubscribes (those that sent a `since`). */
  resubscribes(): SubscribedInfo[] {
    return this.subscribed.filter((info) => info.wasRecovering)
  }
}

export interface StreamProblems {
  /** Offsets the handler skipped or saw out of order. */
  gaps: string[]
  /** Message ids the handler ran for more than once. */
  duplicates: string[]
  /** Handler call counts that do not match the offsets the subscriber should have seen. */
  missed: string[]
}

/**
 * What is wrong with one subscriber's view of one channel whose last publication is `finalOffset`: it must
 * have run its handler exactly once for every offset after its first subscribe position, in order.
 */
export function streamProblems(
  recorder: StreamRecorder,
  channel: string,
  finalOffset: number,
  where: string,
): StreamProblems {
  const problems: StreamProblems = { gaps: [], duplicates: [], missed: [] }
  const record = recorder.record(channel)
  if (record.startOffset === undefined) {
    problems.missed.push(`${where}: never subscribed`)
    return problems
  }
  if (record.firstOffset !== undefined && record.firstOffset !== record.startOffset + 1) {
    problems.gaps.push(`${where}: first message ${record.firstOffset} after position ${record.startOffset}`)
  }
  for (const broken of record.breaks) {
    const how = broken.replayed ? ' (replayed)' : ''
    problems.gaps.push(`${where}: ${broken.offset} after ${broken.previous}${how}`)
  }
  for (const id of recorder.duplicates(channel)) problems.duplicates.push(`${where}: ${id}`)
  if (record.calls !== finalOffset - record.startOffset || record.lastOffset !== finalOffset) {
    problems.missed.push(
      `${where}: ${record.calls} handler calls, last offset ${record.lastOffset}, ` +
        `for offsets ${record.startOffset + 1}-${finalOffset}`,
    )
  }
  return problems
}
