import {
  CLOSE_CODES,
  encodeFrame,
  errorBody,
  type PairingResolvedFrame,
  type ServerFrame,
} from '@parley/protocol'
import type { Logger } from 'pino'
import type { GatewayConfig } from '../config.js'
import { newId } from '../ids.js'
import type { CloseHook, CloseHooks } from '../peers/close-hooks.js'
import { Connection, type ConnectionSocket } from '../peers/connection.js'
import { OutboundFlushes } from '../peers/outbound-flushes.js'
import { createConnectionCapacity, type ProcessResources } from './connection-capacity.js'

/** How long a refused peer gets to read why and answer the close before its socket is dropped. */
const REFUSED_CLOSE_GRACE_MS = 1_000

export interface OpenSocket {
  socket: ConnectionSocket
  remoteAddress: string | null
  userAgent: string | null
  origin: string | null
  upgradeToken: string | undefined
}

export interface ConnectionTableOptions {
  config: Pick<GatewayConfig, 'maxBufferedBytes' | 'maxConnections'>
  logger: Logger
  /** Counts the connections closed for falling behind. */
  slowConsumer: () => void
  /** A client id got its first connection on this node, or lost its last one. */
  clientArrived: (clientId: string) => void
  clientLeft: (clientId: string) => void
  /** The process's file-descriptor limit and heap (tests inject small ones); default: this process's. */
  resources?: ProcessResources
}

/**
 * The live connections of this node: the table (and the connections of each client id), their opening and
 * their end. Whatever must hear about a connection ending registers a close hook.
 */
export function createConnectionTable(options: ConnectionTableOptions) {
  const { config, logger } = options
  const connections = new Map<string, Connection>()
  /** Open, welcomed connections per client id, oldest first: the last one receives its deliveries. */
  const connectionsByClientId = new Map<string, Connection[]>()
  const closeHooks: CloseHook[] = []
  const drainWaiters = new Set<() => void>()
  /** Set by `shutdown()`, so even upgrades that passed the route's draining check before it are turned away. */
  let shutdownFrame: Buffer | undefined
  const flushes = new OutboundFlushes()
  const capacity = createConnectionCapacity({
    maxConnections: config.maxConnections,
    logger,
    ...(options.resources === undefined ? {} : { resources: options.resources }),
  })

  /** The latest connection of a client id that can still take frames (one closing is skipped). */
  function connectionFor(clientId: string): Connection | undefined {
    const sameClient = connectionsByClientId.get(clientId)
    if (sameClient === undefined) return undefined
    for (let index = sameClient.length - 1; index >= 0; index -= 1) {
      const candidate = sameClient[index]
      if (candidate?.isOpen) return candidate
    }
    return undefined
  }

  function open(socket: OpenSocket): Connection {
    const id = newId('con')
    const connection = new Connection({
      id,
      logger: logger.child({ connectionId: id }),
      ...socket,
      maxBufferedBytes: config.maxBufferedBytes,
      now: Date.now(),
      flushes,
      onSlowConsumer: (slow) => {
        options.slowConsumer()
        slow.logger.warn('closed slow consumer')
        // Cut now: it leaves the connection table (and parley_connections) without waiting for its socket.
        queueMicrotask(() => closed(slow, CLOSE_CODES.slow_consumer.code))
      },
    })
    if (shutdownFrame !== undefined) {
      // Its upgrade was accepted just before the drain began: tell it like the others, never register it.
      connection.send(shutdownFrame)
      refuse(connection, 'going_away', 'gateway is shutting down')
      return connection
    }
    const full = capacity.refusal(connections.size)
    if (full !== undefined) {
      // Not registered: it is told why and closed before it costs anything more.
      connection.sendError(full)
      refuse(connection, 'server_full', 'server_full')
      return connection
    }
    connections.set(connection.id, connection)
    return connection
  }

  /** Closes a connection that was never registered. */
  function refuse(connection: Connection, reason: 'server_full' | 'going_away', message: string): void {
    connection.close(reason, message)
    // Refused sockets are not in the connection table, so nothing bounds them: a peer that never answers
    // the close would otherwise hold its socket for ws's 30 s close timeout.
    setTimeout(() => connection.terminate(), REFUSED_CLOSE_GRACE_MS).unref()
  }

  /** A connection was welcomed: it joins its client id's connections. */
  function joinClient(connection: Connection): void {
    const sameClient = connectionsByClientId.get(connection.clientId)
    if (sameClient === undefined) {
      connectionsByClientId.set(connection.clientId, [connection])
      options.clientArrived(connection.clientId)
    } else sameClient.push(connection)
  }

  /** A welcomed connection went: it leaves its client id's connections (a close hook, in its place in order). */
  function leaveClient(connection: Connection): void {
    const sameClient = connectionsByClientId.get(connection.clientId)
    const remaining = sameClient?.filter((candidate) => candidate !== connection) ?? []
    if (remaining.length === 0) {
      connectionsByClientId.delete(connection.clientId)
      options.clientLeft(connection.clientId)
    } else connectionsByClientId.set(connection.clientId, remaining)
  }

  /** The connection has gone (its socket closed, or the gateway cut it): once, then every close hook. */
  function closed(connection: Connection, code: number): void {
    if (connection.state === 'closed') return
    const welcomed = connection.clientId !== ''
    connection.markClosed()
    if (connections.get(connection.id) !== connection) return
    connections.delete(connection.id)
    for (const hook of closeHooks) hook(connection, { code, welcomed })
    connection.logger.debug({ code }, 'disconnected')
    if (connections.size === 0) for (const resolve of drainWaiters) resolve()
  }

  /** Tells a connection its credentials are no longer valid and closes it with 4001. */
  function endAuthentication(connection: Connection, message: string): void {
    if (!connection.isOpen) return
    connection.sendError(errorBody('unauthorized', message))
    connection.close('unauthorized', message)
  }

  /** Ends the authentication of every open connection `which` picks; returns how many there were. */
  function endAuthenticationOf(which: (connection: Connection) => boolean, message: string): number {
    let count = 0
    for (const connection of connections.values()) {
      if (!connection.isOpen || !which(connection)) continue
      endAuthentication(connection, message)
      count += 1
    }
    return count
  }

  /** Queues one encoded frame on every open connection; returns how many took it. */
  function sendToAll(encoded: Buffer, which: (connection: Connection) => boolean = () => true): number {
    let delivered = 0
    for (const recipient of connections.values()) {
      if (recipient.isOpen && which(recipient) && recipient.send(encoded)) delivered += 1
    }
    return delivered
  }

  /** Resolves true once no connection is left, or false after `timeoutMs`. */
  function waitForNoConnections(timeoutMs: number): Promise<boolean> {
    if (connections.size === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const done = (empty: boolean) => {
        clearTimeout(timer)
        drainWaiters.delete(onEmpty)
        resolve(empty)
      }
      const onEmpty = () => done(true)
      const timer = setTimeout(() => done(false), timeoutMs)
      drainWaiters.add(onEmpty)
    })
  }

  return {
    connections,
    /** Connections this node admits (`maxConnections`, or lower when the open-file limit cannot hold it). */
    connectionLimit: capacity.limit,
    connectionFor,
    /** The client ids with a connection on this node. */
    localClients: () => connectionsByClientId.keys(),
    open,
    joinClient,
    leaveClient,
    closed,
    onClose: ((hook) => {
      closeHooks.push(hook)
    }) satisfies CloseHooks['onClose'],
    endAuthentication,
    /** Closes every connection authenticated with the API token `tokenId`; returns how many there were. */
    revokeToken: (tokenId: string) =>
      endAuthenticationOf((connection) => connection.tokenId === tokenId, 'token revoked'),
    /** Closes every connection authenticated with the agent key `id`; returns how many there were. */
    revokeAgentKey: (id: string) =>
      endAuthenticationOf((connection) => connection.agentKeyId === id, 'agent key revoked'),
    sendToAll,
    /** Sends `pairing_resolved` to every open connection of role connector. */
    notifyConnectors: (frame: PairingResolvedFrame) =>
      sendToAll(Buffer.from(encodeFrame(frame)), (connection) => connection.role === 'connector'),
    /** Sends a frame to the client id's connection on this node; false when it has none here. */
    sendLocally: (clientId: string, frame: ServerFrame): boolean =>
      connectionFor(clientId)?.sendFrame(frame) ?? false,
    waitForNoConnections,
    /** Tells every client the gateway is going away, then closes them with `going_away`. */
    shutdown(reason: string, reconnectAfterMs: number): void {
      const encoded = Buffer.from(encodeFrame({ type: 'shutdown', reason, reconnectAfterMs }))
      shutdownFrame = encoded
      for (const connection of connections.values()) {
        connection.send(encoded)
        connection.close('going_away', reason)
      }
    },
    /** Drops connections whose peers never completed the close handshake. */
    terminateAll(): void {
      for (const connection of connections.values()) connection.terminate()
    },
    listConnections() {
      return [...connections.values()]
        .filter((connection) => connection.isOpen)
        .map((connection) => connection.info())
    },
    /** The connections of devices waiting for the operator to approve their pairing. */
    listPairing() {
      return [...connections.values()]
        .filter((connection) => connection.state === 'pairing')
        .map((connection) => connection.pairingInfo())
    },
  }
}

export type ConnectionTable = ReturnType<typeof createConnectionTable>
