import type { HistogramPairs } from './histogram.js'
import type { TargetName } from './options.js'

/** What every load worker is told once the servers answer (the `config` message). */
export interface WorkerConfigBase {
  target: TargetName
  /** The server's base URL, always http://127.0.0.1:<port>. */
  baseUrl: string
  channel: string
  /** The worker exits on its own after this long, whatever happens, so nothing outlives the bench. */
  deadlineMs: number
}

export interface SubscriberWorkerConfig extends WorkerConfigBase {
  role: 'subscribers'
  connections: number
  connectConcurrency: number
  /** Used in client ids so connections are distinguishable in the gateway's logs. */
  workerIndex: number
}

export interface PublisherWorkerConfig extends WorkerConfigBase {
  role: 'publisher'
  warmupMs: number
  durationMs: number
  window: number
  payloadBytes: number
}

export type WorkerConfig = SubscriberWorkerConfig | PublisherWorkerConfig

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

export type FromWorker =
  /** Loaded and listening for its `config`. */
  | { type: 'booted' }
  | { type: 'ready'; connections: number }
  | { type: 'progress'; completedThrough: number }
  | { type: 'phase'; phase: 'measure-start' | 'measure-end' }
  | { type: 'subscriber-result'; result: SubscriberResult }
  | { type: 'publisher-result'; result: PublisherResult }
  | { type: 'failed'; message: string }
