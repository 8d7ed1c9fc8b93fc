/**
 * One measured run of the request scenario, on a server scenario.ts has started: the agent workers connect
 * and register, the callers connect, the callers keep their window of requests in flight for the warm-up
 * and the measured window, then wait for the last answers; the server's CPU is read at the window's edges
 * and its memory at the end, as in the other scenarios.
 */
import type { ChildProcess } from 'node:child_process'
import { LatencyHistogram } from './histogram.js'
import type {
  AgentResult,
  AgentWorkerConfig,
  CallerResult,
  CallerWorkerConfig,
  FromWorker,
  ToWorker,
  WorkerConfig,
} from './ipc.js'
import { readCpuMs, type readMemory, sendTo, waitForMessage } from './processes.js'
import {
  type Contender,
  type Deployment,
  type RequestLoad,
  type RunResult,
  readDeploymentMemory,
  sumOver,
  type WorkerPool,
} from './scenario.js'

export async function measureRequests(
  contender: Contender,
  run: number,
  load: RequestLoad,
  deployment: Deployment,
  pool: WorkerPool,
): Promise<RunResult> {
  const { target, label } = contender
  const deadlineMs = load.warmupMs + load.durationMs + 180_000
  const configure = (child: ChildProcess, config: WorkerConfig) => {
    sendTo(child, { type: 'config', config } satisfies ToWorker)
    return child
  }
  try {
    await pool.booted
    const workerCount = pool.subscribers.length
    const agentWorkers = pool.subscribers.map((child, workerIndex) => {
      const share = Math.floor(load.agents / workerCount) + (workerIndex < load.agents % workerCount ? 1 : 0)
      const config: AgentWorkerConfig = {
        role: 'agents',
        target,
        baseUrl: deployment.subscribeUrl,
        deadlineMs,
        connections: share,
        connectConcurrency: Math.max(1, Math.ceil(load.connectConcurrency / workerCount)),
        workerIndex,
        capability: load.capability,
      }
      return configure(child, config)
    })
    const setupTimeoutMs = 30_000 + (load.agents + load.callers) * 30
    // Every agent is registered before a caller connects, so no request meets an empty directory.
    await Promise.all(
      agentWorkers.map((child, index) =>
        waitForMessage(child, 'ready', setupTimeoutMs, `${label} agent worker ${index}`),
      ),
    )
    const callerConfig: CallerWorkerConfig = {
      role: 'callers',
      target,
      baseUrl: deployment.publishUrl,
      deadlineMs,
      connections: load.callers,
      capability: load.capability,
      warmupMs: load.warmupMs,
      durationMs: load.durationMs,
      window: load.window,
      payloadBytes: load.payloadBytes,
    }
    const callers = configure(pool.publisher, callerConfig)
    await waitForMessage(callers, 'ready', setupTimeoutMs, `${label} callers`)

    let cpuAtStart: number | undefined
    let cpuAtEnd: number | undefined
    let startedAt = 0
    let endedAt = 0
    let memory: ReturnType<typeof readMemory>
    callers.on('message', (message: FromWorker) => {
      if (message.type !== 'phase') return
      if (message.phase === 'measure-start') {
        startedAt = performance.now()
        cpuAtStart = sumOver(deployment.pids, readCpuMs)
      } else {
        endedAt = performance.now()
        cpuAtEnd = sumOver(deployment.pids, readCpuMs)
        memory = readDeploymentMemory(deployment.pids)
      }
    })
    // An agent worker that fails mid-run (its connections closed) ends the run with its explanation.
    const agentFailures = agentWorkers.map((child, index) => {
      const failure = waitForMessage(
        child,
        'agent-result',
        deadlineMs,
        `${label} agent worker ${index}`,
      ).then(() => new Promise<never>(() => {}))
      failure.catch(() => {})
      return failure
    })
    const answered = Promise.race([
      waitForMessage(callers, 'caller-result', load.warmupMs + load.durationMs + 60_000, `${label} callers`),
      ...agentFailures,
    ])
    sendTo(callers, { type: 'start' })
    const callerResult = (await answered).result

    const pendingAgentResults = agentWorkers.map((child, index) =>
      waitForMessage(child, 'agent-result', 10_000, `${label} agent worker ${index}`),
    )
    for (const child of agentWorkers) sendTo(child, { type: 'report' })
    const agentResults = (await Promise.all(pendingAgentResults)).map((message) => message.result)
    const cpuPercent =
      cpuAtStart !== undefined && cpuAtEnd !== undefined && endedAt > startedAt
        ? ((cpuAtEnd - cpuAtStart) / (endedAt - startedAt)) * 100
        : undefined
    return summariseRequests(contender, run, load, callerResult, agentResults, memory, cpuPercent)
  } finally {
    await pool.stop()
  }
}

function summariseRequests(
  contender: Contender,
  run: number,
  load: RequestLoad,
  callers: CallerResult,
  agents: AgentResult[],
  memory: ReturnType<typeof readMemory>,
  serverCpuPercent: number | undefined,
): RunResult {
  const latency = new LatencyHistogram()
  latency.merge(callers.roundTripLatency)
  const closedByCode: Record<string, number> = {}
  for (const result of agents) {
    for (const [code, count] of Object.entries(result.closedByCode)) {
      closedByCode[code] = (closedByCode[code] ?? 0) + count
    }
  }
  const seconds = callers.measuredMs / 1000
  const mb = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / (1024 * 1024))
  return {
    label: contender.label,
    target: contender.target,
    run,
    ok: true,
    deliveriesPerSecond: 0,
    publishesPerSecond: 0,
    roundTripsPerSecond: seconds > 0 ? callers.measuredAnswered / seconds : 0,
    agentAnswers: agents.flatMap((result) => result.answered),
    p50Ms: latency.quantile(0.5),
    p90Ms: latency.quantile(0.9),
    p99Ms: latency.quantile(0.99),
    maxMs: latency.quantile(1),
    ackP50Ms: undefined,
    ackP99Ms: undefined,
    serverRssMb: mb(memory?.rssBytes),
    serverPeakRssMb: mb(memory?.peakRssBytes),
    serverCpuPercent,
    subscribers: load.agents,
    measuredMs: callers.measuredMs,
    measuredPublished: callers.measuredSent,
    measuredDeliveries: callers.measuredAnswered,
    expectedDeliveries: callers.measuredSent,
    closedByCode,
    errorsByCode: callers.errorsByCode,
    lastDeliveredCount: undefined,
    drained: callers.drained,
  }
}
