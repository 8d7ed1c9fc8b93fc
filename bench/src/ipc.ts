import type { HistogramPairs } from './histogram.js'
import type { TargetName } from './options.js'

/** What every load worker is told once the servers answer (the `config` message). */
export interface WorkerConfigBase {
  target: TargetName
  /** The server's base URL, always http://127.0.0.1:<port>. */
  baseUrl: string
  /** The worker exits on its own after this long, whatever happens, so nothing outlives the bench. */
  deadlineMs: number
}

export interface SubscriberWorkerConfig extends WorkerConfigBase {
  role: 'subscribers'
  channel: string
  connections: number
  connectConcurrency: number
  /** Used in client ids so connections are distinguishable in the gateway's logs. */
  workerIndex: number
}

export interface PublisherWorkerConfig extends WorkerConfigBase {
  role: 'publisher'
  channel: string
  warmupMs: number
  durationMs: number
  window: number
  payloadBytes: number
  /** Publications per second on a fixed schedule; unset: as fast as the window allows. */
  ratePerSecond?: number
}

/** The agent id (and client id) of agent connection `index` of agent worker `workerIndex`. */
export function benchAgentId(workerIndex: number, index: number): string {
  return `bench-agent-${workerIndex}-${index}`
}

/** Request scenario: a share of the agent connections, each answering every request at once. */
export interface AgentWorkerConfig extends WorkerConfigBase {
  role: 'agents'
  connections: number
  connectConcurrency: number
  /** Used in agent and client ids. */
  workerIndex: number
  /** The capability every agent registers and the callers address. */
  capability: string
}

/** Request scenario: the caller connections, keeping `window` requests in flight over all of them. */
export interface CallerWorkerConfig extends WorkerConfigBase {
  role: 'callers'
  /** a2a scenario: the callers are `@a2a-js/sdk` clients of the agent found under this URL. */
  a2aUrl?: string
  connections: number
  capability: string
  warmupMs: number
  durationMs: number
  window: number
  payloadBytes: number
}

export type WorkerConfig =
  | SubscriberWorkerConfig
  | PublisherWorkerConfig
  | AgentWorkerConfig
  | CallerWorkerConfig

/** The publication each subscriber receives; short keys keep the ~100 byte budget for the padding. */
export interface BenchPayload {
  /** Sequence number, from 1. */
  seq: number
  /** Send time on the monotonic clock, in ms. */
  t: number
  /** 1 when published inside the measurement window, 0 during warm-up. */
  m: 0 | 1
  pad: string
}

// ---------------------------------------------------------------- orchestrator -> worker

export type ToWorker =
  /** Sent once, after the worker's `booted`: its role, the server and the load. */
  | { type: 'config'; config: WorkerConfig }
  | { type: 'start' }
  /** The highest sequence number every subscriber has received (relayed to the publisher). */
  | { type: 'progress'; completedThrough: number }
  | { type: 'report' }

// ---------------------------------------------------------------- worker -> orchestrator

export interface SubscriberResult {
  connections: number
  /** Deliveries of publications from the measurement window. */
  measuredDeliveries: number
  /** All deliveries, warm-up included. */
  totalDeliveries: number
  latency: HistogramPairs
  /** Connections the server closed during the run, by close code. */
  closedByCode: Record<string, number>
}

export interface PublisherResult {
  published: number
  measuredPublished: number
  /** Time from the first to the end of the measurement window, on the publisher's clock. */
  measuredMs: number
  acknowledged: number
  /** Publish-to-acknowledgement latency of the measured publications. */
  ackLatency: HistogramPairs
  /** Error replies by code (e.g. a rate limit), which would make the comparison unfair. */
  errorsByCode: Record<string, number>
  /** `delivered` from the server's last publish reply, when the protocol reports it. */
  lastDeliveredCount: number | undefined
  /** True when the drain after the measurement window finished (every subscriber got everything). */
  drained: boolean
}

export interface AgentResult {
  /** Requests answered, per agent connection of this process. */
  answered: number[]
  /** Connections the server closed during the run, by close code. */
  closedByCode: Record<string, number>
}

export interface CallerResult {
  sent: number
  /** Requests sent inside the measurement window. */
  measuredSent: number
  /** Of those, the ones answered with a reply (not an error). */
  measuredAnswered: number
  /** Length of the measurement window, on the caller's clock. */
  measuredMs: number
  /** Request-to-reply time of the measured requests, on the caller's clock. */
  roundTripLatency: HistogramPairs
  /** Error answers by code (`no_route`, `rate_limited`, `timeout`, …): each one is a failed round trip. */
  errorsByCode: Record<string, number>
  /** True when every request sent was answered after the measurement window. */
  drained: boolean
}

export type FromWorker =
  /** Loaded and listening for its `config`. */
  | { type: 'booted' }
  | { type: 'ready'; connections: number }
  | { type: 'progress'; completedThrough: number }
  | { type: 'phase'; phase: 'measure-start' | 'measure-end' }
  | { type: 'subscriber-result'; result: SubscriberResult }
  | { type: 'publisher-result'; result: PublisherResult }
  | { type: 'agent-result'; result: AgentResult }
  | { type: 'caller-result'; result: CallerResult }
  | { type: 'failed'; message: string }
