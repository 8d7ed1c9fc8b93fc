/**
 * One measured run of the request scenario, on a server scenario.ts has started: the agent workers connect
 * and register, the callers connect, the callers keep their window of requests in flight for the warm-up
 * and the measured window, then wait for the last answers; the server's CPU is read at the window's edges
 * and its memory at the end, as in the other scenarios.
 */
import { LatencyHistogram } from './histogram.js'
import {
  type AgentResult,
  type AgentWorkerConfig,
  benchAgentId,
  type CallerResult,
  type CallerWorkerConfig,
} from './ipc.js'
import type { ServerWindow } from './measurement.js'
import { addCounts, configureWorker, megabytes, sampleServerOverWindow, shareOf } from './measurement.js'
import type { TargetName } from './options.js'
import { sendTo, waitForMessage } from './processes.js'
import type { Contender, Deployment, RequestLoad, RunResult, WorkerPool } from './run-plan.js'

export async function measureRequests(
  contender: Contender,
  run: number,
  load: RequestLoad,
  deployment: Deployment,
  pool: WorkerPool,
): Promise<RunResult> {
  const { target, label } = contender
  const deadlineMs = load.warmupMs + load.durationMs + 180_000
  try {
    await pool.booted
    // The a2a baseline answers in its own executor: its agent workers stay idle.
    const agentPool = target === 'a2a' ? [] : pool.subscribers
    const workerCount = agentPool.length
    const agentWorkers = agentPool.map((child, workerIndex) => {
      const config: AgentWorkerConfig = {
        role: 'agents',
        target,
        baseUrl: deployment.subscribeUrl,
        deadlineMs,
        connections: shareOf(load.agents, workerCount, workerIndex),
        connectConcurrency: Math.max(1, Math.ceil(load.connectConcurrency / workerCount)),
        workerIndex,
        capability: load.capability,
      }
      return configureWorker(child, config)
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
      ...(load.protocol === 'a2a' ? { a2aUrl: a2aAgentUrl(target, deployment.publishUrl) } : {}),
      deadlineMs,
      connections: load.callers,
      capability: load.capability,
      warmupMs: load.warmupMs,
      durationMs: load.durationMs,
      window: load.window,
      payloadBytes: load.payloadBytes,
    }
    const callers = configureWorker(pool.publisher, callerConfig)
    await waitForMessage(callers, 'ready', setupTimeoutMs, `${label} callers`)

    const server = sampleServerOverWindow(callers, deployment.pids)
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
    const result = summariseRequests(contender, run, load, callerResult, agentResults, server.read())
    if (target !== 'parley') return result
    const auditDropped = await readAuditDropped(deployment.publishUrl)
    return auditDropped === undefined ? result : { ...result, auditDropped }
  } finally {
    await pool.stop()
  }
}

/**
 * Parley's `parley_audit_dropped_total` at the end of the run: audit rows lost to a full buffer or a failed
 * batch. Anything above 0 means the run bought its number with audit rows. Undefined when /metrics does not say.
 */
async function readAuditDropped(baseUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })
    const match = /^parley_audit_dropped_total(?:\{[^}]*\})? (\d+)/m.exec(await response.text())
    return match?.[1] === undefined ? undefined : Number(match[1])
  } catch {
    return undefined
  }
}

/** Where the a2a scenario's callers find their agent: Parley's A2A face of the first agent, or the baseline. */
function a2aAgentUrl(target: TargetName, baseUrl: string): string {
  return target === 'a2a' ? `${baseUrl}/` : `${baseUrl}/a2a/${benchAgentId(0, 0)}/`
}

function summariseRequests(
  contender: Contender,
  run: number,
  load: RequestLoad,
  callers: CallerResult,
  agents: AgentResult[],
  { memory, cpuPercent, machineBusyPercent }: ServerWindow,
): RunResult {
  const latency = new LatencyHistogram()
  latency.merge(callers.roundTripLatency)
  const closedByCode: Record<string, number> = {}
  for (const result of agents) {
    addCounts(closedByCode, result.closedByCode)
  }
  const seconds = callers.measuredMs / 1000
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
    serverRssMb: megabytes(memory?.rssBytes),
    serverPeakRssMb: megabytes(memory?.peakRssBytes),
    serverCpuPercent: cpuPercent,
    machineBusyPercent,
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
