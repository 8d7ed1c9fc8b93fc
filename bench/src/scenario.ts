import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { LatencyHistogram } from './histogram.js'
import type {
  FromWorker,
  PublisherResult,
  PublisherWorkerConfig,
  SubscriberResult,
  SubscriberWorkerConfig,
  WorkerConfig,
} from './ipc.js'
import type { BenchOptions, TargetName } from './options.js'
import { forkTs, readCpuMs, readMemory, sendTo, stopProcess, waitForMessage } from './processes.js'
import { startServer } from './servers.js'

const WORKER = fileURLToPath(new URL('./load/worker.ts', import.meta.url))
const CHANNEL = 'bench.fanout'

/** One measured run of one target: what the table and the JSON results are made of. */
export interface RunResult {
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

/** Starts the target's server, the subscriber workers and the publisher, runs the scenario, stops all. */
export async function runScenario(
  target: TargetName,
  run: number,
  options: BenchOptions,
): Promise<RunResult> {
  const server = await startServer(target, options)
  const workers: ChildProcess[] = []
  const deadlineMs = options.warmupMs + options.durationMs + 180_000
  const spawnWorker = (config: WorkerConfig) => {
    const child = forkTs(WORKER, [JSON.stringify(config)])
    workers.push(child)
    return child
  }

  try {
    // Subscribers: split as evenly as possible over the worker processes.
    const subscriberWorkers = Array.from({ length: options.workers }, (_, workerIndex) => {
      const share =
        Math.floor(options.subscribers / options.workers) +
        (workerIndex < options.subscribers % options.workers ? 1 : 0)
      const config: SubscriberWorkerConfig = {
        role: 'subscribers',
        target,
        baseUrl: server.baseUrl,
        channel: CHANNEL,
        deadlineMs,
        connections: share,
        connectConcurrency: Math.max(1, Math.ceil(options.connectConcurrency / options.workers)),
        workerIndex,
      }
      return spawnWorker(config)
    })
    const setupTimeoutMs = 30_000 + options.subscribers * 30
    const ready = await Promise.all(
      subscriberWorkers.map((child, index) =>
        waitForMessage(child, 'ready', setupTimeoutMs, `${target} subscriber worker ${index}`),
      ),
    )
    const connected = ready.reduce((sum, message) => sum + message.connections, 0)

    const publisherConfig: PublisherWorkerConfig = {
      role: 'publisher',
      target,
      baseUrl: server.baseUrl,
      channel: CHANNEL,
      deadlineMs,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      window: options.window,
      payloadBytes: options.payloadBytes,
    }
    const publisher = spawnWorker(publisherConfig)
    await waitForMessage(publisher, 'ready', 30_000, `${target} publisher`)

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

    // Server CPU is sampled at the publisher's window edges; memory at the end of the window.
    let cpuAtStart: number | undefined
    let cpuAtEnd: number | undefined
    let startedAt = 0
    let endedAt = 0
    let memory: ReturnType<typeof readMemory>
    publisher.on('message', (message: FromWorker) => {
      if (message.type !== 'phase') return
      if (message.phase === 'measure-start') {
        startedAt = performance.now()
        cpuAtStart = readCpuMs(server.pid)
      } else {
        endedAt = performance.now()
        cpuAtEnd = readCpuMs(server.pid)
        memory = readMemory(server.pid)
      }
    })
    const pendingSubscriberResults = subscriberWorkers.map((child, index) => {
      const pending = waitForMessage(
        child,
        'subscriber-result',
        deadlineMs,
        `${target} subscriber worker ${index}`,
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
        options.warmupMs + options.durationMs + 60_000,
        `${target} publisher`,
      ),
      ...pendingSubscriberResults.map((pending) => pending.then(() => new Promise<never>(() => {}))),
    ])
    sendTo(publisher, { type: 'start' })
    const publisherResult = (await published).result

    for (const child of subscriberWorkers) sendTo(child, { type: 'report' })
    const subscriberResults = (await Promise.all(pendingSubscriberResults)).map((message) => message.result)
    const cpuPercent =
      cpuAtStart !== undefined && cpuAtEnd !== undefined && endedAt > startedAt
        ? ((cpuAtEnd - cpuAtStart) / (endedAt - startedAt)) * 100
        : undefined
    return summarise(target, run, connected, publisherResult, subscriberResults, memory, cpuPercent)
  } finally {
    await Promise.all(workers.map((child) => stopProcess(child, 1000)))
    await server.stop()
  }
}

function summarise(
  target: TargetName,
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
    for (const [code, count] of Object.entries(result.closedByCode)) {
      closedByCode[code] = (closedByCode[code] ?? 0) + count
    }
  }
  const seconds = publisher.measuredMs / 1000
  const mb = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / (1024 * 1024))
  return {
    target,
    run,
    ok: true,
    deliveriesPerSecond: seconds > 0 ? measuredDeliveries / seconds : 0,
    publishesPerSecond: seconds > 0 ? publisher.measuredPublished / seconds : 0,
    p50Ms: latency.quantile(0.5),
    p90Ms: latency.quantile(0.9),
    p99Ms: latency.quantile(0.99),
    maxMs: latency.quantile(1),
    serverRssMb: mb(memory?.rssBytes),
    serverPeakRssMb: mb(memory?.peakRssBytes),
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

export function failedRun(target: TargetName, run: number, error: unknown): RunResult {
  return {
    target,
    run,
    ok: false,
    error: error instanceof Error ? error.message : String(error),
    deliveriesPerSecond: 0,
    publishesPerSecond: 0,
    p50Ms: undefined,
    p90Ms: undefined,
    p99Ms: undefined,
    maxMs: undefined,
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
