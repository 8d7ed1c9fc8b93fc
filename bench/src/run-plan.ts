/**
 * What a benchmark run is: the load plan of a scenario, the contender, the worker pool and deployment a run
 * uses, and the result a run produces. Shared by every scenario module and by the runner and the report.
 */
import type { ChildProcess } from 'node:child_process'
import type { RunDatabase } from './databases.js'
import type { TargetName } from './options.js'
import type { StoreBackend } from './servers.js'
import type { StormFigures } from './storm-figures.js'

/** What every scenario's load has. */
export interface LoadTiming {
  /** Processes that share the subscriber (request scenario: agent) connections. */
  workers: number
  payloadBytes: number
  warmupMs: number
  durationMs: number
  connectConcurrency: number
}

/** Fan-out, durable, cross-node: one publisher, many subscribers on one channel. */
export interface PublishLoad extends LoadTiming {
  kind: 'publish'
  channel: string
  subscribers: number
  /** Publications in flight at most (see the README's _Pacing_). */
  window: number
  /** Paced: publications per second on a fixed schedule (still within `window`); unset: as fast as it allows. */
  ratePerSecond?: number
}

/**
 * Request scenario: callers keep `window` requests in flight to `agents` agent connections. The a2a scenario
 * is one too, with `protocol: 'a2a'`: its callers are `@a2a-js/sdk` clients sending `SendMessage` (to
 * Parley's A2A face of the first agent, or to the a2a baseline, which answers without agents).
 */
export interface RequestLoad extends LoadTiming {
  kind: 'request'
  /** `a2a`: the callers send A2A JSON-RPC `SendMessage`; absent: Parley's frames (or the baselines' own). */
  protocol?: 'a2a'
  /** The capability the agents register and the callers address (Parley routes by it). */
  capability: string
  agents: number
  /** Caller connections, all in one process. */
  callers: number
  /** Requests in flight at most, over all callers. */
  window: number
}

/** The load of a scenario, the same for every contender. */
export type LoadPlan = PublishLoad | RequestLoad

/** Connections the load opens to one server: the gateway's `--max-connections` leaves room above it. */
export function loadConnections(load: LoadPlan): number {
  return load.kind === 'request' ? load.agents + load.callers : load.subscribers + 1
}

/** One row of a scenario's table: a target and, for Parley, how its gateway runs. */
export interface Contender {
  /** The row's name, e.g. `parley (postgres)`. */
  label: string
  target: TargetName
  /** Parley only. `database()` is called before each run; the database is dropped after it. */
  gateway?: {
    entry: string
    storeBackend: StoreBackend
    database(): Promise<RunDatabase>
    /** Start it with the audit off (`PARLEY_AUDIT_ENABLED=false`); default: on. */
    auditOff?: boolean
  }
  /**
   * Cross-node: two server nodes on this Redis, the publisher on node A, the subscribers on node B. Each run
   * gets its own key prefix, removed after the run.
   */
  crossNode?: { redisUrl: string; hint: string }
}

/**
 * The load processes of one run, forked before the servers start so that their start-up (tsx, modules)
 * overlaps the servers'. Each is configured once the servers answer. In the request scenario the
 * `subscribers` processes hold the agents and the `publisher` process the callers.
 */
export interface WorkerPool {
  subscribers: ChildProcess[]
  publisher: ChildProcess
  /** Resolves when every worker has reported `booted`. */
  booted: Promise<unknown>
  stop(): Promise<void>
}

/** Where the load connects, and the server processes to measure (one, or one per node). */
export interface Deployment {
  publishUrl: string
  subscribeUrl: string
  pids: number[]
}

/** One measured run of one contender: what the table and the JSON results are made of. */
export interface RunResult {
  label: string
  target: TargetName
  run: number
  ok: boolean
  error?: string
  deliveriesPerSecond: number
  publishesPerSecond: number
  p50Ms: number | undefined
  p90Ms: number | undefined
  p99Ms: number | undefined
  maxMs: number | undefined
  /**
   * Request scenario only: requests sent in the measured window and answered with a reply ÷ measured
   * seconds. The latency fields above are then round-trip times at the caller, `measuredPublished` counts
   * the measured requests, `measuredDeliveries` their replies (expected: one each) and `errorsByCode` the
   * error answers; deliveries and publishes per second are 0.
   */
  roundTripsPerSecond?: number
  /** Request scenario only: requests answered per agent connection, over the whole run. */
  agentAnswers?: number[]
  /** Request scenario, Parley only: audit rows the gateway dropped (its `parley_audit_dropped_total`). */
  auditDropped?: number
  /** Publish-to-acknowledgement latency of the measured publications, at the publisher. */
  ackP50Ms: number | undefined
  ackP99Ms: number | undefined
  serverRssMb: number | undefined
  serverPeakRssMb: number | undefined
  /** Server CPU time over the measurement window / its wall time; above 100 % means several threads. */
  serverCpuPercent: number | undefined
  /** The whole machine's busy share over the measurement window, of all cores (see `ServerWindow`). */
  machineBusyPercent?: number | undefined
  subscribers: number
  measuredMs: number
  measuredPublished: number
  measuredDeliveries: number
  /** measuredPublished × connected subscribers: fewer deliveries than this means something was lost. */
  expectedDeliveries: number
  closedByCode: Record<string, number>
  errorsByCode: Record<string, number>
  lastDeliveredCount: number | undefined
  drained: boolean
  /** Storm scenario only: each disruption's timings, memory, recovery and the verdict. */
  storm?: StormFigures
}

export function failedRun(contender: Contender, run: number, error: unknown): RunResult {
  return {
    label: contender.label,
    target: contender.target,
    run,
    ok: false,
    error: error instanceof Error ? error.message : String(error),
    deliveriesPerSecond: 0,
    publishesPerSecond: 0,
    p50Ms: undefined,
    p90Ms: undefined,
    p99Ms: undefined,
    maxMs: undefined,
    ackP50Ms: undefined,
    ackP99Ms: undefined,
    serverRssMb: undefined,
    serverPeakRssMb: undefined,
    serverCpuPercent: undefined,
    subscribers: 0,
    measuredMs: 0,
    measuredPublished: 0,
    measuredDeliveries: 0,
    expectedDeliveries: 0,
    closedByCode: {},
    errorsByCode: {},
    lastDeliveredCount: undefined,
    drained: false,
  }
}
