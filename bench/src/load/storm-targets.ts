/**
 * The storm scenario's clients, as an application would use them: Parley's `PushClient` (its own reconnect
 * with full-jitter backoff, session resume and channel recovery from the last offset seen) and the official
 * socket.io-client (its reconnection backoff and connection state recovery), each with its defaults.
 */
import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Logger, ParleyError, PushClient } from '@parley/client'
import { io, type Socket } from 'socket.io-client'
import type { StormPayload, StormTarget } from '../storm-ipc.js'

/** What a subscriber reports to the bookkeeping (storm-clients.ts). */
export interface SubscriberHooks {
  /** A publication reached the application. */
  onMessage(n: number): void
  /** The connection was lost; the client reconnects on its own. */
  onLost(): void
  /** The subscription is back after a loss; `recovered`: the client library says nothing was missed. */
  onRestored(recovered: boolean): void
}

export interface StormSubscriber {
  /** The client's state in words, to explain one that does not come back. */
  describe(): string
  close(): Promise<void>
}

export interface PublishOutcome {
  /** The server recognised a publication it had stored already (same idempotency key). */
  duplicate: boolean
  /** The channel position the server gave it (Parley only). */
  position?: { offset: number; epoch: string }
}

export interface StormPublisher {
  publish(channel: string, n: number): Promise<PublishOutcome>
  close(): Promise<void>
}

/** How long the publisher waits for one acknowledgement before it sends the same publication again. */
const PUBLISH_TIMEOUT_MS = 30_000

function numberOf(data: unknown): number | undefined {
  const n = (data as Partial<StormPayload> | null)?.n
  return typeof n === 'number' ? n : undefined
}

/** Set-up attempts at one subscribe, as an application retries one that timed out while thousands connect. */
const SUBSCRIBE_ATTEMPTS = 10

/**
 * The first subscribe, retried when it times out (the gateway is busy with thousands of handshakes on a loaded
 * machine) or meets its own earlier attempt still being set up (`conflict`).
 */
async function subscribeWithRetries(client: PushClient, channel: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await client.subscribe(channel)
      return
    } catch (error) {
      const transient =
        error instanceof ParleyError &&
        (error.retryable || error.code === 'conflict' || error.code === 'timeout')
      if (!transient || attempt >= SUBSCRIBE_ATTEMPTS) throw error
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt))
    }
  }
}

/**
 * `PARLEY_STORM_TRACE=<directory>`: every subscriber's connection steps (socket opening, open, welcomed,
 * dropped, disconnected, the reconnect delay), one JSON line each with the wall-clock time, written to
 * `<directory>/<pid>.jsonl` every 2 s, to follow the attempts of the clients that come back last.
 */
const TRACE_DIR = process.env.PARLEY_STORM_TRACE
const traceLines: string[] = []
if (TRACE_DIR !== undefined) {
  mkdirSync(TRACE_DIR, { recursive: true })
  const flush = () => {
    if (traceLines.length > 0)
      appendFileSync(join(TRACE_DIR, `${process.pid}.jsonl`), traceLines.splice(0).join(''))
  }
  setInterval(flush, 2000).unref()
  process.on('exit', flush)
}

function tracer(clientId: string): Logger | undefined {
  if (TRACE_DIR === undefined) return undefined
  const line = (context: Record<string, unknown>, message: string) => {
    traceLines.push(`${JSON.stringify({ t: Date.now(), c: clientId, m: message, ...context })}\n`)
  }
  return { debug: line, info: line, warn: line, error: line }
}

async function parleySubscriber(
  url: string,
  clientId: string,
  channel: string,
  hooks: SubscriberHooks,
): Promise<StormSubscriber> {
  // WebSocket only: a client moved to polling by a slow open keeps its session through a cut (nothing to recover),
  // which the storm's every-client-back count would wait on forever; recovery over polling has its own tests.
  const logger = tracer(clientId)
  const client = new PushClient(url, {
    clientId,
    fallbackToPolling: false,
    ...(logger === undefined ? {} : { logger }),
  })
  let restoring = false
  client.on('channel_message', (message) => {
    const n = message.channel === channel ? numberOf(message.data) : undefined
    if (n !== undefined) hooks.onMessage(n)
  })
  client.on('disconnect', () => hooks.onLost())
  client.on('subscribed', (info) => {
    // The first subscribe is not a restoration; every later one follows a lost connection.
    if (info.channel === channel && info.wasRecovering) hooks.onRestored(info.recovered)
    else if (info.channel === channel && restoring) hooks.onRestored(false)
  })
  // Errors are reported through the events above (a lost connection, an unrecovered subscription); the last
  // few are kept to explain a client that does not come back.
  const errors: string[] = []
  client.on('error', (error) => {
    errors.push(error.code)
    if (errors.length > 5) errors.shift()
  })
  let attempts = 0
  client.on('reconnecting', ({ attempt, delayMs }) => {
    attempts = attempt
    logger?.debug?.({ attempt, delayMs }, 'reconnecting')
  })
  await client.connect()
  await subscribeWithRetries(client, channel)
  restoring = true
  return {
    describe: () =>
      `${client.transport} ${client.state}, reconnect attempt ${attempts}, subscriptions ${client.subscriptions.join(',')}, ` +
      `last errors ${errors.join(',') || 'none'}`,
    close: () => client.close(),
  }
}

async function socketIoSubscriber(
  url: string,
  channel: string,
  hooks: SubscriberHooks,
): Promise<StormSubscriber> {
  // forceNew: one Manager (one connection) per client, as separate applications would have.
  const socket: Socket = io(url, { transports: ['websocket'], forceNew: true })
  let subscribed = false
  socket.on('message', (data: unknown) => {
    const n = numberOf(data)
    if (n !== undefined) hooks.onMessage(n)
  })
  socket.on('disconnect', () => {
    if (subscribed) hooks.onLost()
  })
  socket.on('connect', () => {
    if (!subscribed) return
    if (socket.recovered) {
      hooks.onRestored(true)
      return
    }
    // A new session: the rooms are gone and the missed broadcasts with them; join again, as an app would.
    socket
      .timeout(PUBLISH_TIMEOUT_MS)
      .emitWithAck('subscribe', channel)
      .then(
        () => hooks.onRestored(false),
        () => socket.disconnect().connect(),
      )
  })
  // A failed attempt is retried by the client with its backoff; the orchestrator bounds the set-up.
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  await socket.timeout(PUBLISH_TIMEOUT_MS).emitWithAck('subscribe', channel)
  subscribed = true
  return {
    describe: () => `connected ${socket.connected}, recovered ${socket.recovered}`,
    close: async () => {
      socket.disconnect()
    },
  }
}

export function openSubscriber(
  target: StormTarget,
  url: string,
  clientId: string,
  channel: string,
  hooks: SubscriberHooks,
): Promise<StormSubscriber> {
  return target === 'parley'
    ? parleySubscriber(url, clientId, channel, hooks)
    : socketIoSubscriber(url, channel, hooks)
}

/** Error code of a failed publish, for the counts. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string') return code
  return error instanceof Error ? error.message.slice(0, 60) : 'failed'
}

export async function openPublisher(target: StormTarget, url: string): Promise<StormPublisher> {
  if (target === 'parley') {
    const client = new PushClient(url, { clientId: 'storm-publisher' })
    client.on('error', () => {})
    await client.connect()
    return {
      async publish(channel, n) {
        // The same key for every attempt at one number: a publish whose reply was lost is not stored twice.
        const reply = await client.publish(channel, { n } satisfies StormPayload, {
          idempotencyKey: `${channel}:${n}`,
        })
        const { offset, epoch } = reply
        return {
          duplicate: reply.duplicate === true,
          // A gateway without offsets (history off) gives none; nothing to check then.
          ...(offset === undefined || epoch === undefined ? {} : { position: { offset, epoch } }),
        }
      },
      close: () => client.close(),
    }
  }
  const socket: Socket = io(url, { transports: ['websocket'], forceNew: true })
  // A failed attempt is retried by the client with its backoff; the orchestrator bounds the set-up.
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  return {
    async publish(channel, n) {
      await socket
        .timeout(PUBLISH_TIMEOUT_MS)
        .emitWithAck('publish', { channel, data: { n } satisfies StormPayload })
      return { duplicate: false }
    },
    close: async () => {
      socket.disconnect()
    },
  }
}
