import type { StoredPublication } from '@parley/stores'
import type { Logger } from 'pino'
import { BUS_TOPICS, type ClusterBus } from '../bus/types.js'
import type { ChannelCluster, RemotePublication } from '../channels/channel-streams.js'

export interface ChannelRelayOptions {
  bus: ClusterBus
  logger: Logger
  /** Fans out a publication stored by another node (channel streams, in offset order). */
  deliver: (publication: RemotePublication) => void
  /** Fans out from the store what the channel got after the last offset seen here. */
  catchUp: (channel: string) => void
  /** The node stopped listening: the position it knows of the channel will go stale. */
  forgetPosition: (channel: string) => void
}

/**
 * Channel fan-out across nodes. Every publication stored here goes out on `channel:<name>` (its live frame,
 * encoded once, inside a small JSON envelope); a node listens to a channel's topic only while it has local
 * subscribers (or subscribers joining). Offsets come from the shared store, so the receiving side can put
 * publications from every node in order (channel streams' `fanOut`). After a bus outage every listened
 * channel catches up from the store.
 */
export function createChannelRelay(options: ChannelRelayOptions): ChannelCluster & {
  /** Registry hooks: the channel's first local subscriber arrived, or its last one left. */
  subscribed(channel: string, present: boolean): void
  /** Channels listened to on the bus now. */
  listened(): number
  close(): void
} {
  const { bus, logger } = options
  const withSubscribers = new Set<string>()
  const joins = new Map<string, number>()
  const topics = new Map<string, () => void>()
  let wasDegraded = bus.state() === 'degraded'
  let closed = false

  const removeStateListener = bus.onState((state) => {
    if (state === 'degraded') {
      wasDegraded = true
      return
    }
    if (state !== 'ok' || !wasDegraded) return
    wasDegraded = false
    for (const channel of topics.keys()) options.catchUp(channel)
  })

  function receive(channel: string, payload: string): void {
    let message: unknown
    try {
      message = JSON.parse(payload)
    } catch {
      logger.warn({ channel }, 'ignored a bus message that is not JSON')
      return
    }
    if (!isPublicationMessage(message) || message.channel !== channel) return
    const prefix = envelopePrefix(message.channel, message.offset, message.epoch)
    const frame =
      payload.startsWith(prefix) && payload.endsWith('}')
        ? payload.slice(prefix.length, -1)
        : JSON.stringify(message.message)
    options.deliver({ channel, offset: message.offset, epoch: message.epoch, frame })
  }

  function wanted(channel: string): boolean {
    return withSubscribers.has(channel) || (joins.get(channel) ?? 0) > 0
  }

  function reconcile(channel: string): void {
    if (closed) return
    if (wanted(channel)) {
      if (!topics.has(channel)) {
        topics.set(
          channel,
          bus.subscribe(BUS_TOPICS.channel(channel), (payload) => receive(channel, payload)),
        )
      }
      return
    }
    // A subscriber that finishes joining leaves the joins and enters the registry in the same turn:
    // decide once that turn is over, so the topic is not dropped and taken again in between.
    queueMicrotask(() => {
      if (wanted(channel)) return
      const unsubscribe = topics.get(channel)
      if (unsubscribe === undefined) return
      topics.delete(channel)
      unsubscribe()
      options.forgetPosition(channel)
    })
  }

  return {
    listening: (channel) => topics.has(channel),
    published(publication: StoredPublication, frame: string) {
      bus.publish(
        BUS_TOPICS.channel(publication.channel),
        `${envelopePrefix(publication.channel, publication.offset, publication.epoch)}${frame}}`,
      )
    },
    joining(channel, started) {
      const count = (joins.get(channel) ?? 0) + (started ? 1 : -1)
      if (count > 0) joins.set(channel, count)
      else joins.delete(channel)
      reconcile(channel)
    },
    subscribed(channel, present) {
      if (present) withSubscribers.add(channel)
      else withSubscribers.delete(channel)
      reconcile(channel)
    },
    listened: () => topics.size,
    close() {
      closed = true
      removeStateListener()
      for (const unsubscribe of topics.values()) unsubscribe()
      topics.clear()
    },
  }
}

/** The envelope up to the live frame: `{"kind":"publication",...,"message":` + frame + `}`. */
function envelopePrefix(channel: string, offset: number, epoch: string): string {
  return `{"kind":"publication","channel":${JSON.stringify(channel)},"offset":${offset},"epoch":${JSON.stringify(epoch)},"message":`
}

interface PublicationMessage {
  kind: 'publication'
  channel: string
  offset: number
  epoch: string
  message: unknown
}

function isPublicationMessage(value: unknown): value is PublicationMessage {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return (
    candidate.kind === 'publication' &&
    typeof candidate.channel === 'string' &&
    typeof candidate.offset === 'number' &&
    Number.isSafeInteger(candidate.offset) &&
    typeof candidate.epoch === 'string' &&
    typeof candidate.message === 'object' &&
    candidate.message !== null
  )
}
