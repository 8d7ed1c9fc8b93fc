// Subscribers on their way to live: by channel (fan-out buffers their live frames) and by connection (limits,
// unsubscribe and close find them).

/** A subscriber on its way to live: live frames of its channel are buffered until its replay is sent. */
export interface Join<C> {
  readonly connection: C
  readonly channel: string
  readonly requestId: string
  readonly buffer: { offset: number; frame: Buffer }[]
  cancelled: boolean
}

/** What the joins tell the cluster (see `ChannelCluster.joining`). */
interface JoinObserver {
  joining(channel: string, started: boolean): void
}

export function createChannelJoins<C>(cluster: JoinObserver | undefined) {
  const joinsByChannel = new Map<string, Set<Join<C>>>()
  const joinsByConnection = new Map<C, Map<string, Join<C>>>()

  function addJoin(entry: Join<C>): void {
    let ofChannel = joinsByChannel.get(entry.channel)
    if (ofChannel === undefined) {
      ofChannel = new Set()
      joinsByChannel.set(entry.channel, ofChannel)
    }
    ofChannel.add(entry)
    let ofConnection = joinsByConnection.get(entry.connection)
    if (ofConnection === undefined) {
      ofConnection = new Map()
      joinsByConnection.set(entry.connection, ofConnection)
    }
    ofConnection.set(entry.channel, entry)
    cluster?.joining(entry.channel, true)
  }

  function removeJoin(entry: Join<C>): void {
    const ofChannel = joinsByChannel.get(entry.channel)
    if (ofChannel?.delete(entry)) cluster?.joining(entry.channel, false)
    if (ofChannel?.size === 0) joinsByChannel.delete(entry.channel)
    const ofConnection = joinsByConnection.get(entry.connection)
    if (ofConnection?.get(entry.channel) === entry) ofConnection.delete(entry.channel)
    if (ofConnection?.size === 0) joinsByConnection.delete(entry.connection)
  }

  function cancelJoin(entry: Join<C>): void {
    entry.cancelled = true
    entry.buffer.length = 0
    removeJoin(entry)
  }

  return {
    add: addJoin,
    remove: removeJoin,
    cancel: cancelJoin,

    /** The connection's joins, by channel. */
    of(connection: C): ReadonlyMap<string, Join<C>> | undefined {
      return joinsByConnection.get(connection)
    },

    /** A live frame of the channel: every subscriber joining it keeps it until its replay is sent. */
    buffer(channel: string, offset: number, frame: Buffer): void {
      const joins = joinsByChannel.get(channel)
      if (joins !== undefined) {
        for (const join of joins) join.buffer.push({ offset, frame })
      }
    },

    /** A connection closed: subscriptions being set up are dropped with it. */
    connectionClosed(connection: C): void {
      const joins = joinsByConnection.get(connection)
      if (joins === undefined) return
      for (const entry of [...joins.values()]) cancelJoin(entry)
      joinsByConnection.delete(connection)
    },
  }
}
