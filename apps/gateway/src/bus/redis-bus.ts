import { loadIoredis } from '@parley/stores'
import type { Redis, RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import type { RedisConfig } from '../config.js'
import { TopicHandlers } from './topic-handlers.js'
import { type BusObserver, type BusState, type ClusterBus, topicKind } from './types.js'

/** How long `openRedisBus` waits for Redis before the gateway refuses to start. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/** Reconnect delays: quick at first, then at most every two seconds, for as long as it takes. */
const MAX_RECONNECT_DELAY_MS = 2_000

export interface RedisBusOptions {
  config: RedisConfig
  nodeId: string
  logger: Logger
  /** Overrides `config.prefix` (tests use a unique one per file). */
  prefix?: string
  connectTimeoutMs?: number
  /** Milliseconds a command (entries, publish) may wait for its reply; default: no limit. */
  commandTimeoutMs?: number
  /** Told of each message's lag and of every reconnect (the metrics). */
  observer?: BusObserver
}

/**
 * Entries are one hash per group; each field holds `<expiresAt ms>|<value>`, stamped with the Redis server's
 * clock so nodes with skewed clocks agree on what is live. The hash itself expires after the longest TTL
 * written into it, so a group whose writers all died disappears.
 */
const PUT_ENTRY = `
local now = redis.call('TIME')
local at = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], tostring(at + ttl) .. '|' .. ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`

/** Live entries as a flat [field, value, ...] list; expired fields are removed on the way. */
const LIVE_ENTRIES = `
local now = redis.call('TIME')
local at = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local live = {}
for index = 1, #all, 2 do
  local stamped = all[index + 1]
  local bar = string.find(stamped, '|', 1, true)
  local expiresAt = bar and tonumber(string.sub(stamped, 1, bar - 1)) or 0
  if expiresAt > at then
    live[#live + 1] = all[index]
    live[#live + 1] = string.sub(stamped, bar + 1)
  else
    redis.call('HDEL', KEYS[1], all[index])
  end
end
return live`

type BusRedis = Redis & {
  parleyPutEntry(key: string, field: string, value: string, ttlMs: number): Promise<number>
  parleyLiveEntries(key: string): Promise<string[]>
}

/**
 * The cluster bus over Redis: one connection for commands (entries, publish) and one subscriber connection.
 * Every key and pub/sub channel carries the prefix; a message carries its origin node and the time it was
 * published (`<nodeId> <epoch ms>\n<payload>`), so a node never handles its own and the metrics see the lag.
 * (A header without the time, as nodes of earlier versions send, is read too.) While either connection is down the bus is `degraded`: publishes are
 * dropped, entry calls fail fast, and once both are back the topics are subscribed again before the state
 * returns to `ok` (listeners then catch up from the store).
 */
export async function openRedisBus(options: RedisBusOptions): Promise<ClusterBus> {
  const { nodeId, logger, observer } = options
  const prefix = options.prefix ?? options.config.prefix
  const base = connectionOptions(options.config)
  const { Redis: Client } = loadIoredis()
  // Auto-pipelining sends the commands of one event-loop turn together (the client directory refresh
  // writes one entry per connected client id).
  const commands = new Client({
    ...base,
    // A Redis that drops packets would otherwise hold every entry call until the link is back.
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
  }) as BusRedis
  commands.defineCommand('parleyPutEntry', { numberOfKeys: 1, lua: PUT_ENTRY })
  commands.defineCommand('parleyLiveEntries', { numberOfKeys: 1, lua: LIVE_ENTRIES })
  const subscriber = new Client({ ...base, lazyConnect: true, autoResubscribe: false })

  const handlers = new TopicHandlers()
  const stateListeners = new Set<(state: BusState) => void>()
  let state: BusState = 'degraded'
  let closed = false
  /** Set once the bus was connected: a later return to `ok` is a reconnect. */
  let connectedBefore = false
  let commandsReady = false
  let subscriberReady = false
  /** Bumped on every subscriber reconnect, so a slow resubscription of an older link is ignored. */
  let link = 0

  const channelOf = (topic: string) => `${prefix}bus:${topic}`
  const topicOf = (channel: string) => channel.slice(`${prefix}bus:`.length)
  const groupKey = (group: string) => `${prefix}entries:${group}`

  function setState(next: BusState): void {
    if (state === next || closed) return
    state = next
    logger.info({ bus: next }, next === 'ok' ? 'cluster bus connected' : 'cluster bus degraded')
    if (next === 'ok') {
      if (connectedBefore) observer?.reconnected()
      connectedBefore = true
    }
    for (const listener of [...stateListeners]) {
      try {
        listener(next)
      } catch (error) {
        logger.error({ err: error }, 'bus state listener failed')
      }
    }
  }

  function refreshState(): void {
    setState(commandsReady && subscriberReady ? 'ok' : 'degraded')
  }

  commands.on('ready', () => {
    commandsReady = true
    refreshState()
  })
  commands.on('close', () => {
    commandsReady = false
    refreshState()
  })
  subscriber.on('ready', () => {
    const current = ++link
    const topics = handlers.topics().map(channelOf)
    const resubscribed = topics.length === 0 ? Promise.resolve() : subscriber.subscribe(...topics)
    resubscribed.then(
      () => {
        if (current !== link) return
        subscriberReady = true
        refreshState()
      },
      (error: unknown) =>
        logger.warn({ err: error }, 'resubscribing to the bus failed; retrying on reconnect'),
    )
  })
  subscriber.on('close', () => {
    link += 1
    subscriberReady = false
    refreshState()
  })
  for (const connection of [commands, subscriber]) {
    // Errors come with every failed reconnect; the state change says it once, the debug log says why.
    connection.on('error', (error: Error) => logger.debug({ err: error }, 'redis connection error'))
  }
  subscriber.on('message', (channel: string, message: string) => {
    const newline = message.indexOf('\n')
    if (newline < 0) return
    const space = message.lastIndexOf(' ', newline)
    if (message.slice(0, space < 0 ? newline : space) === nodeId) return
    const payload = message.slice(newline + 1)
    const topic = topicOf(channel)
    if (observer !== undefined && space >= 0) {
      // Clocks of two nodes: a skew shows as lag (or as none, never below zero).
      observer.received(topicKind(topic), Math.max(0, Date.now() - Number(message.slice(space + 1, newline))))
    }
    for (const handler of handlers.of(topic)) {
      try {
        handler(payload)
      } catch (error) {
        logger.error({ err: error, topic }, 'bus handler failed')
      }
    }
  })

  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  // Host and port only: the URL may carry a password.
  const where = `${base.host ?? '127.0.0.1'}:${base.port ?? 6379}`
  try {
    // A failed first attempt is retried like any reconnect; the start waits for ready or the timeout.
    commands.connect().catch(() => {})
    subscriber.connect().catch(() => {})
    await withTimeout(
      new Promise<void>((resolve) => {
        if (state === 'ok') return resolve()
        stateListeners.add(function ready(next) {
          if (next !== 'ok') return
          stateListeners.delete(ready)
          resolve()
        })
      }),
      timeoutMs,
      `Redis at ${where} did not answer within ${timeoutMs} ms`,
    )
  } catch (error) {
    commands.disconnect()
    subscriber.disconnect()
    throw error
  }

  return {
    nodeId,
    state: () => state,
    onState(listener) {
      stateListeners.add(listener)
      return () => stateListeners.delete(listener)
    },
    subscribe(topic, handler) {
      return handlers.add(topic, handler, {
        // While degraded the reconnect subscribes every topic; a failure here is the same outage.
        onFirst: () => {
          if (subscriberReady) subscriber.subscribe(channelOf(topic)).catch(() => {})
        },
        onLast: () => {
          if (subscriberReady) subscriber.unsubscribe(channelOf(topic)).catch(() => {})
        },
      })
    },
    publish(topic, payload) {
      if (state !== 'ok' || closed) return
      commands.publish(channelOf(topic), `${nodeId} ${Date.now()}\n${payload}`).catch((error: unknown) => {
        logger.debug({ err: error, topic }, 'bus publish dropped')
      })
    },
    async putEntry(group, field, value, ttlMs) {
      await commands.parleyPutEntry(groupKey(group), field, value, Math.max(1, Math.round(ttlMs)))
    },
    async removeEntry(group, field) {
      await commands.hdel(groupKey(group), field)
    },
    async entries(group) {
      const flat = await commands.parleyLiveEntries(groupKey(group))
      const live = new Map<string, string>()
      for (let index = 0; index + 1 < flat.length; index += 2) {
        live.set(flat[index] as string, flat[index + 1] as string)
      }
      return live
    },
    async close() {
      if (closed) return
      closed = true
      stateListeners.clear()
      handlers.clear()
      await Promise.allSettled([commands.quit(), subscriber.quit()])
      commands.disconnect()
      subscriber.disconnect()
    },
  }
}

/** ioredis options from the `redis` config section: `url` wins over host / port / db / password. */
export function connectionOptions(config: RedisConfig): RedisOptions {
  const common: RedisOptions = {
    retryStrategy: (attempt) => Math.min(50 * attempt, MAX_RECONNECT_DELAY_MS),
    // Commands fail instead of queueing for ever; the bus treats a failure as the outage it is.
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
  }
  if (config.url !== undefined) {
    const url = new URL(config.url)
    return {
      ...common,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? 6379 : Number(url.port),
      ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
      ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
      db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    }
  }
  return {
    ...common,
    host: config.host ?? '127.0.0.1',
    port: config.port,
    db: config.db,
    ...(config.password === undefined ? {} : { password: config.password }),
  }
}

async function withTimeout<T>(task: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      task,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), timeoutMs)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
