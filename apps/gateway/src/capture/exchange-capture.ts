import type { CaptureRecord, CaptureStep, CaptureStore } from '@parley/stores'
import type { Logger } from 'pino'
import type { CaptureConfig } from '../config.js'
import { type JsonPath, parseJsonPath, redactInPlace } from './json-redaction.js'

/** The start of an exchange (a request or a stream) the agent layer may capture. */
export interface ExchangeStart {
  correlationId: string
  /** The calling side: its agent id, else its client id. */
  caller: string
  /** The caller's agent id when it is an agent (capture named for it applies as well). */
  callerAgentId: string | undefined
  agentId: string
  instanceId: string
  traceId: string
  /** Epoch ms the request reached the gateway; steps are timed from it. */
  startedAt: number
  /** The allow rule that let it through, if one did. */
  rule: string | undefined
  data: unknown
}

export interface ExchangeCaptureOptions {
  config: CaptureConfig
  /** This node's id, stored with each step (an exchange may span instances on several nodes). */
  node: string
  /** The open capture store; undefined before the gateway started (steps then wait in the buffer). */
  store: () => CaptureStore | undefined
  logger: Logger
  now?: () => number
  /** Longest a step waits in the buffer before it is written. */
  flushIntervalMs?: number
}

/** Steps buffered at most; beyond, new steps are counted as dropped (capture never slows the routing). */
const MAX_BUFFERED_STEPS = 10_000
/** Exchanges followed at once; beyond, new ones are not captured. */
const MAX_OPEN_EXCHANGES = 10_000
const ROWS_PER_WRITE = 500
const PRUNE_EVERY_MS = 60_000

interface OpenExchange {
  start: ExchangeStart
  nextStep: number
}

/** `*` matches any run of characters; everything else is literal. */
function patternMatcher(patterns: readonly string[]): (value: string) => boolean {
  if (patterns.length === 0) return () => false
  const escaped = patterns.map((pattern) =>
    pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*'),
  )
  const regex = new RegExp(`^(?:${escaped.join('|')})$`)
  return (value) => regex.test(value)
}

/**
 * Payload capture for conversation replay, on the caller's node where requests and streams are held. Off by
 * default: only exchanges with an agent named in `capture.agents` (as callee or caller) or let through by a rule
 * named in `capture.policies` are captured. Each payload is serialised, cut when over `maxPayloadBytes`, and
 * redacted by `capture.redact` here, before it reaches the buffer: no unredacted payload is ever stored. Steps
 * are written in batches off the routing path; old ones are pruned after `capture.retention`.
 */
export function createExchangeCapture(options: ExchangeCaptureOptions) {
  const { config, node, logger } = options
  const now = options.now ?? Date.now
  const flushIntervalMs = options.flushIntervalMs ?? 250
  const agentMatches = patternMatcher(config.agents)
  const policies = new Set(config.policies)
  const paths: JsonPath[] = config.redact.map(parseJsonPath)
  const open = new Map<string, OpenExchange>()
  let buffer: CaptureRecord[] = []
  let dropped = 0
  let timer: NodeJS.Timeout | undefined
  let writing: Promise<void> | undefined
  let lastPrune = 0

  function captured(start: Pick<ExchangeStart, 'agentId' | 'callerAgentId' | 'rule'>): boolean {
    return (
      agentMatches(start.agentId) ||
      (start.callerAgentId !== undefined && agentMatches(start.callerAgentId)) ||
      (start.rule !== undefined && policies.has(start.rule))
    )
  }

  /** The payload as stored: its JSON text redacted, or nothing when it is too large. */
  function encode(payload: unknown): Pick<CaptureRecord, 'payload' | 'size' | 'redacted' | 'truncated'> {
    if (payload === undefined) return { payload: null, size: null, redacted: [], truncated: false }
    const text = JSON.stringify(payload)
    const size = Buffer.byteLength(text)
    if (size > config.maxPayloadBytes) return { payload: null, size, redacted: [], truncated: true }
    if (paths.length === 0) return { payload: text, size, redacted: [], truncated: false }
    const copy: unknown = JSON.parse(text)
    const redacted = redactInPlace(copy, paths)
    return { payload: redacted.length === 0 ? text : JSON.stringify(copy), size, redacted, truncated: false }
  }

  function push(exchange: OpenExchange, step: CaptureStep, payload: unknown, instanceId?: string): void {
    const index = exchange.nextStep
    exchange.nextStep += 1
    if (buffer.length >= MAX_BUFFERED_STEPS) {
      dropped += 1
      return
    }
    const { start } = exchange
    const time = now()
    buffer.push({
      time: new Date(time),
      correlationId: start.correlationId,
      step,
      stepIndex: index,
      caller: start.caller,
      agentId: start.agentId,
      instanceId: instanceId ?? start.instanceId,
      node,
      traceId: start.traceId,
      offsetMs: Math.max(0, time - start.startedAt),
      ...encode(payload),
    })
    if (buffer.length >= ROWS_PER_WRITE) void flush()
    else if (timer === undefined) {
      timer = setTimeout(() => void flush(), flushIntervalMs)
      timer.unref()
    }
  }

  async function writeBuffered(): Promise<void> {
    const store = options.store()
    if (store === undefined) return
    while (buffer.length > 0) {
      const batch = buffer.slice(0, ROWS_PER_WRITE)
      try {
        await store.append(batch)
      } catch (error) {
        dropped += batch.length
        logger.error(
          { err: error, steps: batch.length },
          'captured exchange steps dropped after a failed write',
        )
      }
      buffer = buffer.slice(batch.length)
    }
    if (config.retention > 0 && now() - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now()
      await store
        .prune(new Date(now() - config.retention * 1000))
        .catch((error: unknown) => logger.error({ err: error }, 'pruning captured exchanges failed'))
    }
  }

  /** Writes what is buffered; concurrent calls share one write loop. */
  async function flush(): Promise<void> {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    while (writing !== undefined) await writing
    if (buffer.length === 0) return
    writing = writeBuffered().finally(() => {
      writing = undefined
    })
    await writing
  }

  return {
    /** Whether anything may be captured at all (some agent or policy is named). */
    enabled: config.agents.length > 0 || config.policies.length > 0,

    /** Starts capturing the exchange when its agent, caller or rule is named; true when it is captured. */
    begin(start: ExchangeStart): boolean {
      if (!captured(start) || open.size >= MAX_OPEN_EXCHANGES) return false
      const exchange: OpenExchange = { start, nextStep: 0 }
      open.set(start.correlationId, exchange)
      push(exchange, 'request', start.data)
      return true
    },

    /** A chunk, the reply or the error of a captured exchange (nothing for one not captured). */
    step(
      correlationId: string,
      step: Exclude<CaptureStep, 'request'>,
      payload: unknown,
      instanceId?: string,
    ): void {
      const exchange = open.get(correlationId)
      if (exchange !== undefined) push(exchange, step, payload, instanceId)
    },

    /** The exchange is over: later steps of it are not captured. */
    end(correlationId: string): void {
      open.delete(correlationId)
    },

    flush,

    get dropped(): number {
      return dropped
    },

    /** Writes what is buffered (the gateway stops; the store is still open). */
    async stop(): Promise<void> {
      open.clear()
      await flush()
    },
  }
}

export type ExchangeCapture = ReturnType<typeof createExchangeCapture>
