import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { probeCrossNode } from './cross-node-probe.js'
import { LatencyHistogram } from './histogram.js'
import type {
  FromWorker,
  PublisherResult,
  PublisherWorkerConfig,
  SubscriberResult,
  SubscriberWorkerConfig,
} from './ipc.js'
import type { ServerWindow } from './measurement.js'
import { addCounts, configureWorker, megabytes, sampleServerOverWindow, shareOf } from './measurement.js'
import { forkTs, sendTo, stopProcess, waitForMessage } from './processes.js'
import { removePrefix, runPrefix, trackPrefix } from './redis.js'
import { measureRequests } from './request-scenario.js'
import {
  type Contender,
  type Deployment,
  type LoadPlan,
  loadConnections,
  type PublishLoad,
  type RunResult,
  type WorkerPool,
} from './run-plan.js'
import { type ClusterNode, type RunningServer, startServer } from './servers.js'

const WORKER = fileURLToPath(new URL('./load/worker.ts', import.meta.url))

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
            ? {
                entry: gateway.entry,
                storeBackend: gateway.storeBackend,
                databaseUrl: database.url,
                ...(gateway.auditOff ? { auditOff: true } : {}),
              }
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
      ...(load.ratePerSecond === undefined ? {} : { ratePerSecond: load.ratePerSecond }),
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
    return summarise(contender, run, connected, publisherResult, subscriberResults, server.read())
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
  { memory, cpuPercent, machineBusyPercent }: ServerWindow,
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
    serverCpuPercent: cpuPercent,
    machineBusyPercent,
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
