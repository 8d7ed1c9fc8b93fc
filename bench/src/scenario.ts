import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { probeCrossNode } from './cross-node-probe.js'
import type { RunDatabase } from './databases.js'
import { LatencyHistogram } from './histogram.js'
import type {
  FromWorker,
  PublisherResult,
  PublisherWorkerConfig,
  SubscriberResult,
  SubscriberWorkerConfig,
  ToWorker,
  WorkerConfig,
} from './ipc.js'
import type { TargetName } from './options.js'
import { forkTs, readCpuMs, readMemory, sendTo, stopProcess, waitForMessage } from './processes.js'
import { removePrefix, runPrefix, trackPrefix } from './redis.js'
import { measureRequests } from './request-scenario.js'
import { type ClusterNode, type RunningServer, type StoreBackend, startServer } from './servers.js'

const WORKER = fileURLToPath(new URL('./load/worker.ts', import.meta.url))

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
  gateway?: { entry: string; storeBackend: StoreBackend; database(): Promise<RunDatabase> }
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

/** How long a forked load worker may take to load its modules. */
const WORKER_BOOT_TIMEOUT_MS = 60_000

function forkWorkers(load: LoadPlan, label: string): WorkerPool {
  const children: ChildProcess[] = []
  const boots: Promise<unknown>[] = []
  const fork = (what: string) => {
    const child = forkTs(WORKER, [])
    children.push(child)
    const booted = waitForMessage(child, 'booted', WORKER_BOOT_TIMEOUT_MS, `${label} ${what}`)
    // Awaited through `booted`; this only keeps an early rejection from going unhandled.
    booted.catch(() => {})
    boots.push(booted)
    return child
  }
  const [many, one] = load.kind === 'request' ? ['agent', 'callers'] : ['subscriber', 'publisher']
  const workerCount = Math.min(load.workers, load.kind === 'request' ? load.agents : load.subscribers)
  const subscribers = Array.from({ length: workerCount }, (_, index) => fork(`${many} worker ${index}`))
  const publisher = fork(one)
  return {
    subscribers,
    publisher,
    booted: Promise.all(boots),
    async stop() {
      await Promise.all(children.map((child) => stopProcess(child, 1000)))
    },
  }
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
  /** Publish-to-acknowledgement latency of the measured publications, at the publisher. */
  ackP50Ms: number | undefined
  ackP99Ms: number | undefined
  serverRssMb: number | undefined
  serverPeakRssMb: number | undefined
  /** Server CPU time over the measurement window / its wall time; above 100 % means several threads. */
  serverCpuPercent: number | undefined
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
}

/** Starts the contender's server, the subscriber workers and the publisher, runs the load, stops all. */
export async function runScenario(contender: Contender, run: number, load: LoadPlan): Promise<RunResult> {
  const { gateway, crossNode } = contender
  const database = await gateway?.database()
  const prefix = crossNode ? runPrefix() : undefined
  if (crossNode && prefix) trackPrefix(crossNode.redisUrl, prefix)
  const servers: RunningServer[] = []
  const pool = forkWorkers(load, contender.label)
  try {
    const start = (cluster: ClusterNode | undefined) =>
      startServer(contender.target, {
        kind: load.kind === 'request' && load.protocol === 'a2a' ? 'a2a' : load.kind,
        maxConnections: loadConnections(load) + 100,
        gateway:
          gateway && database
            ? { entry: gateway.entry, storeBackend: gateway.storeBackend, databaseUrl: database.url }
            : undefined,
        ...(cluster ? { cluster } : {}),
      }).then((server) => {
        servers.push(server)
        return server
      })
    let deployment: Deployment
    if (crossNode && prefix) {
      // Both at once (gateways migrate a shared database under an advisory lock); every started one is
      // stopped in `finally`, also when the other failed.
      const started = await Promise.allSettled(
        ['bench-a', 'bench-b'].map((nodeId) => start({ redisUrl: crossNode.redisUrl, prefix, nodeId })),
      )
      const failed = started.find((result) => result.status === 'rejected')
      if (failed) throw failed.reason
      const [nodeA, nodeB] = started.map((result) => (result as PromiseFulfilledResult<RunningServer>).value)
      if (!nodeA || !nodeB) throw new Error('a cross-node server did not start')
      deployment = { publishUrl: nodeA.baseUrl, subscribeUrl: nodeB.baseUrl, pids: [nodeA.pid, nodeB.pid] }
    } else {
      const server = await start(undefined)
      deployment = { publishUrl: server.baseUrl, subscribeUrl: server.baseUrl, pids: [server.pid] }
    }
    return load.kind === 'request'
      ? await measureRequests(contender, run, load, deployment, pool)
      : await measure(contender, run, load, deployment, pool)
  } finally {
    await pool.stop()
    await Promise.all(servers.map((server) => server.stop()))
    try {
      if (crossNode && prefix) await removePrefix(crossNode.redisUrl, prefix)
    } finally {
      await database?.drop()
    }
  }
}

/** Summed over the deployment's server processes; undefined when any reading is missing. */
export function sumOver(pids: number[], read: (pid: number) => number | undefined): number | undefined {
  let sum = 0
  for (const pid of pids) {
    const value = read(pid)
    if (value === undefined) return undefined
    sum += value
  }
  return sum
}

export function readDeploymentMemory(pids: number[]): ReturnType<typeof readMemory> {
  const readings = pids.map(readMemory)
  if (readings.some((reading) => reading === undefined)) return undefined
  return {
    rssBytes: readings.reduce((sum, reading) => sum + (reading?.rssBytes ?? 0), 0),
    peakRssBytes: readings.reduce((sum, reading) => sum + (reading?.peakRssBytes ?? 0), 0),
  }
}

/** Sends a worker its configuration; returns the worker. */
export function configureWorker(child: ChildProcess, config: WorkerConfig): ChildProcess {
  sendTo(child, { type: 'config', config } satisfies ToWorker)
  return child
}

/** Worker `index`'s share of `total` connections, split as evenly as possible over `workerCount` workers. */
export function shareOf(total: number, workerCount: number, index: number): number {
  return Math.floor(total / workerCount) + (index < total % workerCount ? 1 : 0)
}

/**
 * Samples the server's CPU at the sending worker's measurement-window edges and its memory at the end of
 * the window; `read()` gives the CPU share over the window (undefined when a reading is missing).
 */
export function sampleServerOverWindow(sender: ChildProcess, pids: number[]) {
  let cpuAtStart: number | undefined
  let cpuAtEnd: number | undefined
  let startedAt = 0
  let endedAt = 0
  let memory: ReturnType<typeof readMemory>
  sender.on('message', (message: FromWorker) => {
    if (message.type !== 'phase') return
    if (message.phase === 'measure-start') {
      startedAt = performance.now()
      cpuAtStart = sumOver(pids, readCpuMs)
    } else {
      endedAt = performance.now()
      cpuAtEnd = sumOver(pids, readCpuMs)
      memory = readDeploymentMemory(pids)
    }
  })
  return {
    read: () => ({
      memory,
      cpuPercent:
        cpuAtStart !== undefined && cpuAtEnd !== undefined && endedAt > startedAt
          ? ((cpuAtEnd - cpuAtStart) / (endedAt - startedAt)) * 100
          : undefined,
    }),
  }
}

/** Adds each code's count of `counts` to `into`. */
export function addCounts(into: Record<string, number>, counts: Record<string, number>): void {
  for (const [code, count] of Object.entries(counts)) into[code] = (into[code] ?? 0) + count
}

/** Bytes as MB, undefined kept. */
export function megabytes(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : bytes / (1024 * 1024)
}

async function measure(
  contender: Contender,
  run: number,
  load: PublishLoad,
  deployment: Deployment,
  pool: WorkerPool,
): Promise<RunResult> {
  const { target, label } = contender
  // Cross-node: proves the nodes relay, and keeps the channel subscribed on node B until the load's
  // subscribers are there.
  const probe = contender.crossNode
    ? await probeCrossNode({
        target,
        publishUrl: deployment.publishUrl,
        subscribeUrl: deployment.subscribeUrl,
        channel: load.channel,
        hint: contender.crossNode.hint,
      })
    : undefined
  const deadlineMs = load.warmupMs + load.durationMs + 180_000
  try {
    await pool.booted
    // Subscribers: split as evenly as possible over the worker processes.
    const workerCount = pool.subscribers.length
    const subscriberWorkers = pool.subscribers.map((child, workerIndex) => {
      const config: SubscriberWorkerConfig = {
        role: 'subscribers',
        target,
        baseUrl: deployment.subscribeUrl,
        channel: load.channel,
        deadlineMs,
        connections: shareOf(load.subscribers, workerCount, workerIndex),
        connectConcurrency: Math.max(1, Math.ceil(load.connectConcurrency / workerCount)),
        workerIndex,
      }
      return configureWorker(child, config)
    })
    // The publisher only connects until told to start, so it is set up alongside the subscribers.
    const publisherConfig: PublisherWorkerConfig = {
      role: 'publisher',
      target,
      baseUrl: deployment.publishUrl,
      channel: load.channel,
      deadlineMs,
      warmupMs: load.warmupMs,
      durationMs: load.durationMs,
      window: load.window,
      payloadBytes: load.payloadBytes,
    }
    const publisher = configureWorker(pool.publisher, publisherConfig)
    const setupTimeoutMs = 30_000 + load.subscribers * 30
    const [ready] = await Promise.all([
      Promise.all(
        subscriberWorkers.map((child, index) =>
          waitForMessage(child, 'ready', setupTimeoutMs, `${label} subscriber worker ${index}`),
        ),
      ),
      waitForMessage(publisher, 'ready', setupTimeoutMs, `${label} publisher`),
    ])
    const connected = ready.reduce((sum, message) => sum + message.connections, 0)
    probe?.close()

    // Relay flow-control progress: the publisher may run ahead of the slowest subscriber process only.
    const completedThrough = subscriberWorkers.map(() => 0)
    let relayed = 0
    subscriberWorkers.forEach((child, index) => {
      child.on('message', (message: FromWorker) => {
        if (message.type !== 'progress') return
        completedThrough[index] = message.completedThrough
        const lowest = Math.min(...completedThrough)
        if (lowest > relayed) {
          relayed = lowest
          sendTo(publisher, { type: 'progress', completedThrough: lowest })
        }
      })
    })

    const server = sampleServerOverWindow(publisher, deployment.pids)
    const pendingSubscriberResults = subscriberWorkers.map((child, index) => {
      const pending = waitForMessage(
        child,
        'subscriber-result',
        deadlineMs,
        `${label} subscriber worker ${index}`,
      )
      // Awaited below; this only keeps a rejection after an earlier failure from going unhandled.
      pending.catch(() => {})
      return pending
    })
    // A subscriber worker that fails mid-run rejects here and ends the run with its explanation.
    const published = Promise.race([
      waitForMessage(
        publisher,
        'publisher-result',
        load.warmupMs + load.durationMs + 60_000,
        `${label} publisher`,
      ),
      ...pendingSubscriberResults.map((pending) => pending.then(() => new Promise<never>(() => {}))),
    ])
    sendTo(publisher, { type: 'start' })
    const publisherResult = (await published).result

    for (const child of subscriberWorkers) sendTo(child, { type: 'report' })
    const subscriberResults = (await Promise.all(pendingSubscriberResults)).map((message) => message.result)
    const { memory, cpuPercent } = server.read()
    return summarise(contender, run, connected, publisherResult, subscriberResults, memory, cpuPercent)
  } finally {
    probe?.close()
    await pool.stop()
  }
}

function summarise(
  contender: Contender,
  run: number,
  subscribers: number,
  publisher: PublisherResult,
  subscriberResults: SubscriberResult[],
  memory: ReturnType<typeof readMemory>,
  serverCpuPercent: number | undefined,
): RunResult {
  const latency = new LatencyHistogram()
  const closedByCode: Record<string, number> = {}
  let measuredDeliveries = 0
  for (const result of subscriberResults) {
    latency.merge(result.latency)
    measuredDeliveries += result.measuredDeliveries
    addCounts(closedByCode, result.closedByCode)
  }
  const seconds = publisher.measuredMs / 1000
  const ackLatency = new LatencyHistogram()
  ackLatency.merge(publisher.ackLatency)
  return {
    label: contender.label,
    target: contender.target,
    run,
    ok: true,
    deliveriesPerSecond: seconds > 0 ? measuredDeliveries / seconds : 0,
    publishesPerSecond: seconds > 0 ? publisher.measuredPublished / seconds : 0,
    p50Ms: latency.quantile(0.5),
    p90Ms: latency.quantile(0.9),
    p99Ms: latency.quantile(0.99),
    maxMs: latency.quantile(1),
    ackP50Ms: ackLatency.quantile(0.5),
    ackP99Ms: ackLatency.quantile(0.99),
    serverRssMb: megabytes(memory?.rssBytes),
    serverPeakRssMb: megabytes(memory?.peakRssBytes),
    serverCpuPercent,
    subscribers,
    measuredMs: publisher.measuredMs,
    measuredPublished: publisher.measuredPublished,
    measuredDeliveries,
    expectedDeliveries: publisher.measuredPublished * subscribers,
    closedByCode,
    errorsByCode: publisher.errorsByCode,
    lastDeliveredCount: publisher.lastDeliveredCount,
    drained: publisher.drained,
  }
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
