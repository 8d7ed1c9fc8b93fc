import { readFileSync } from 'node:fs'
import { getHeapStatistics } from 'node:v8'
import { type ErrorBody, errorBody } from '@parley/protocol'
import type { Logger } from 'pino'

/**
 * File descriptors kept back from connections for everything else the process opens: the listening socket,
 * the database (PGlite's files or the Postgres pool), Redis, log files, admin and health HTTP requests,
 * and the sockets of refused upgrades during their close grace.
 */
export const FILE_DESCRIPTOR_RESERVE = 256
/** Share of V8's heap limit in use at which new connections are refused instead of risking an out-of-memory. */
export const HEAP_REFUSAL_RATIO = 0.9
/** How long a refused client should wait before trying again when the gateway is full. */
export const SERVER_FULL_RETRY_AFTER_MS = 5_000

/** What the process may hold; injected so tests can shrink it. */
export interface ProcessResources {
  /** The soft limit on open files (RLIMIT_NOFILE); undefined when unknown or unlimited. */
  fileDescriptorLimit(): number | undefined
  /** V8 heap in use and its limit, in bytes. */
  heap(): { usedBytes: number; limitBytes: number }
}

/**
 * The soft `Max open files` of `/proc/self/limits` (Linux; Node raises the soft limit to the hard one at
 * start-up). Undefined where the file does not exist or says `unlimited`: no native module is needed.
 */
export function parseFileDescriptorLimit(limits: string): number | undefined {
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1]
  if (soft === undefined || !/^\d+$/.test(soft)) return undefined
  return Number(soft)
}

export const processResources: ProcessResources = {
  fileDescriptorLimit() {
    try {
      return parseFileDescriptorLimit(readFileSync('/proc/self/limits', 'utf8'))
    } catch {
      return undefined
    }
  },
  heap() {
    const heap = getHeapStatistics()
    return { usedBytes: heap.used_heap_size, limitBytes: heap.heap_size_limit }
  },
}

export interface ConnectionCapacity {
  /** Connections this node admits: `maxConnections`, or less when the file-descriptor limit cannot hold it. */
  readonly limit: number
  /** Why one more connection cannot be held with `open` registered, as a `server_full` error; else undefined. */
  refusal(open: number): ErrorBody | undefined
}

/**
 * The gateway's own bound on connections: every WebSocket holds a file descriptor, so admitting more than the
 * process's RLIMIT_NOFILE allows would end in EMFILE on some later accept or database file, not in a typed
 * refusal. The effective limit is the smaller of `maxConnections` and the descriptor limit minus a reserve,
 * read once (the limit does not change while the process runs); heap pressure is checked at each open.
 */
export function createConnectionCapacity(options: {
  maxConnections: number
  resources?: ProcessResources
  logger: Logger
}): ConnectionCapacity {
  const resources = options.resources ?? processResources
  const descriptors = resources.fileDescriptorLimit()
  const descriptorCap =
    descriptors === undefined ? Number.POSITIVE_INFINITY : Math.max(0, descriptors - FILE_DESCRIPTOR_RESERVE)
  const limit = Math.min(options.maxConnections, descriptorCap)
  if (limit < options.maxConnections) {
    options.logger.warn(
      { maxConnections: options.maxConnections, fileDescriptorLimit: descriptors, effectiveLimit: limit },
      'maxConnections is above what the open-file limit can hold: connections are capped lower',
    )
  }
  const full = (message: string) => errorBody('server_full', message, SERVER_FULL_RETRY_AFTER_MS)
  return {
    limit,
    refusal(open) {
      if (open >= limit) {
        return full(
          limit < options.maxConnections
            ? `the gateway is at its limit of ${limit} connections (open-file limit)`
            : `the gateway is at its limit of ${limit} connections`,
        )
      }
      const heap = resources.heap()
      if (heap.usedBytes >= heap.limitBytes * HEAP_REFUSAL_RATIO) {
        return full('the gateway is short of memory')
      }
      return undefined
    },
  }
}
