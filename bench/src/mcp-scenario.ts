/**
 * The mcp scenario: `tools/call` round trips from the official SDK client (`Client` +
 * `StreamableHTTPClientTransport`) through Parley's `/mcp` to a Parley agent (`AgentClient`, answering at once),
 * against the same client calling an SDK `McpServer` directly (stateless Streamable HTTP on a local port), in
 * the same invocation. The client keeps `MCP_WINDOW` calls in flight; see ../README.md, "MCP scenario".
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { setMaxListeners } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { AgentClient } from '@parley/client'
import { LatencyHistogram } from './histogram.js'
import { megabytes } from './measurement.js'
import type { BenchOptions, TargetName } from './options.js'
import { freePort, readCpuMs, readMemory, stopProcess, TSX_IMPORT, track } from './processes.js'
import { fixed, integer, type RowSummary, TARGET_LABELS } from './report.js'
import { type Contender, failedRun, type RequestLoad, type RunResult } from './run-plan.js'
import type { GatewayEntry, ScenarioPlan } from './scenario-plan.js'
import { startServer, waitForHealth } from './servers.js'

/** Calls in flight at once from the one SDK client. */
export const MCP_WINDOW = 16
const DIRECT_SERVER = fileURLToPath(new URL('./servers/mcp-direct-server.ts', import.meta.url))
const EXIT_WITH_PARENT = new URL('./servers/exit-with-parent.ts', import.meta.url).href
const DIRECT_LABEL = 'mcp (direct)'
/** The direct McpServer row is not one of the WebSocket targets; its results carry this target name. */
const DIRECT_TARGET = 'mcp-direct' as TargetName

interface McpDeployment {
  /** The `/mcp` URL the client calls. */
  url: string
  tool: string
  pid: number
  stop(): Promise<void>
}

async function startParley(contender: Contender): Promise<McpDeployment> {
  const gateway = contender.gateway
  if (gateway === undefined) throw new Error('the parley row needs the gateway CLI')
  const database = await gateway.database()
  const server = await startServer('parley', {
    kind: 'request',
    maxConnections: 1_000,
    gateway: { entry: gateway.entry, databaseUrl: database.url, storeBackend: gateway.storeBackend },
  })
  const agent = new AgentClient(`${server.baseUrl.replace(/^http/, 'ws')}/ws`, {
    agentId: 'bench',
    capabilities: [
      {
        name: 'echo',
        description: 'Answers with its arguments',
        inputSchema: { type: 'object', properties: { payload: { type: 'string' } }, required: ['payload'] },
      },
    ],
  })
  agent.handle((data) => data)
  try {
    await agent.connect()
  } catch (error) {
    await server.stop()
    throw error
  }
  return {
    url: `${server.baseUrl}/mcp`,
    tool: 'bench__echo',
    pid: server.pid,
    async stop() {
      await agent.close()
      await server.stop()
      await database.drop()
    },
  }
}

async function startDirect(): Promise<McpDeployment> {
  const port = await freePort()
  const child: ChildProcess = track(
    spawn(
      process.execPath,
      ['--import', TSX_IMPORT, '--import', EXIT_WITH_PARENT, DIRECT_SERVER, String(port)],
      {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      },
    ),
  )
  const baseUrl = `http://127.0.0.1:${port}`
  try {
    await waitForHealth(baseUrl, child, 60_000)
  } catch (error) {
    await stopProcess(child)
    throw error
  }
  if (child.pid === undefined) throw new Error('the direct MCP server has no pid')
  return { url: `${baseUrl}/mcp`, tool: 'echo', pid: child.pid, stop: () => stopProcess(child) }
}

/**
 * The SDK's transport gives every request the same AbortSignal; Node's fetch adds an `abort` listener to it per
 * request and drops each only once its request is garbage-collected, so a long run passes the signal's limit of
 * 1,500 and printed 49,000 MaxListenersExceededWarning lines. Not a leak (collected later): the warning is turned
 * off for that signal, nothing else changes.
 */
const quietFetch: typeof fetch = (input, init) => {
  if (init?.signal) setMaxListeners(0, init.signal)
  return fetch(input, init)
}

/** Keeps `MCP_WINDOW` calls in flight for the warm-up and the measured window; records the measured ones. */
async function callInWindow(deployment: McpDeployment, load: RequestLoad) {
  const client = new Client({ name: 'parley-bench', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(deployment.url), { fetch: quietFetch }))
  const payload = 'x'.repeat(load.payloadBytes)
  const latency = new LatencyHistogram()
  const errorsByCode: Record<string, number> = {}
  let answered = 0
  let measuredSent = 0
  let measuredAnswered = 0
  const startedAt = performance.now()
  const measureFrom = startedAt + load.warmupMs
  const measureUntil = measureFrom + load.durationMs
  let cpuAtStart: number | undefined
  const cpuStart = setTimeout(() => {
    cpuAtStart = readCpuMs(deployment.pid)
  }, load.warmupMs)
  const worker = async () => {
    for (;;) {
      const sentAt = performance.now()
      if (sentAt >= measureUntil) return
      const measured = sentAt >= measureFrom
      if (measured) measuredSent += 1
      try {
        const result = await client.callTool({ name: deployment.tool, arguments: { payload } })
        if (result.isError === true) throw Object.assign(new Error('tool error'), { code: 'tool_error' })
        answered += 1
        if (measured) {
          measuredAnswered += 1
          latency.record(performance.now() - sentAt)
        }
      } catch (error) {
        const code = String((error as { code?: unknown }).code ?? 'failed')
        errorsByCode[code] = (errorsByCode[code] ?? 0) + 1
      }
    }
  }
  await Promise.all(Array.from({ length: MCP_WINDOW }, worker))
  clearTimeout(cpuStart)
  const cpuAtEnd = readCpuMs(deployment.pid)
  await client.close()
  const cpuPercent =
    cpuAtStart === undefined || cpuAtEnd === undefined
      ? undefined
      : ((cpuAtEnd - cpuAtStart) / load.durationMs) * 100
  return { latency, errorsByCode, answered, measuredSent, measuredAnswered, cpuPercent }
}

async function runMcp(contender: Contender, run: number, load: RequestLoad): Promise<RunResult> {
  const deployment = contender.target === 'parley' ? await startParley(contender) : await startDirect()
  try {
    const measured = await callInWindow(deployment, load)
    const memory = readMemory(deployment.pid)
    const seconds = load.durationMs / 1000
    return {
      ...failedRun(contender, run, ''),
      ok: true,
      error: undefined,
      roundTripsPerSecond: measured.measuredAnswered / seconds,
      // The one agent (Parley) or server (direct) answered every call of the run, warm-up included.
      agentAnswers: [measured.answered],
      p50Ms: measured.latency.quantile(0.5),
      p90Ms: measured.latency.quantile(0.9),
      p99Ms: measured.latency.quantile(0.99),
      maxMs: measured.latency.quantile(1),
      serverRssMb: megabytes(memory?.rssBytes),
      serverPeakRssMb: megabytes(memory?.peakRssBytes),
      serverCpuPercent: measured.cpuPercent,
      measuredMs: load.durationMs,
      measuredPublished: measured.measuredSent,
      measuredDeliveries: measured.measuredAnswered,
      expectedDeliveries: measured.measuredSent,
      errorsByCode: measured.errorsByCode,
      drained: true,
    }
  } finally {
    await deployment.stop()
  }
}

function renderMcpTable(summaries: RowSummary[]): string {
  const parley = summaries.find((summary) => summary.target === 'parley')
  const direct = summaries.find((summary) => summary.label === DIRECT_LABEL)
  const lines = [
    'target            calls/s    p50 ms    p99 ms    RSS MB    CPU %',
    ...summaries.map(
      (summary) =>
        `${summary.label.padEnd(16)} ${integer(summary.roundTripsPerSecond).padStart(8)} ` +
        `${fixed(2)(summary.p50Ms).padStart(9)} ${fixed(2)(summary.p99Ms).padStart(9)} ` +
        `${fixed(1)(summary.serverRssMb).padStart(9)} ${fixed(0)(summary.serverCpuPercent).padStart(8)}`,
    ),
  ]
  if (parley?.roundTripsPerSecond !== undefined && direct?.roundTripsPerSecond)
    lines.push(
      `Parley / direct: calls/s ${(parley.roundTripsPerSecond / direct.roundTripsPerSecond).toFixed(2)}x, ` +
        `p50 ${fixed(2)((parley.p50Ms ?? 0) / (direct.p50Ms ?? 1))}x, p99 ${fixed(2)((parley.p99Ms ?? 0) / (direct.p99Ms ?? 1))}x`,
    )
  lines.push(
    'calls/s: tools/call answered in the measured window per second. p50/p99: call to result at the SDK client. ' +
      'CPU %: the server process (Parley gateway, or the direct McpServer) over the measured window.',
  )
  return lines.join('\n')
}

/** The mcp scenario's plan: Parley (when it is a target) and the direct McpServer, each run interleaved. */
export function mcpPlan(options: BenchOptions, gateway: GatewayEntry): ScenarioPlan {
  const load: RequestLoad = {
    kind: 'request',
    workers: 1,
    payloadBytes: options.payloadBytes,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    connectConcurrency: 1,
    capability: 'echo',
    agents: 1,
    callers: 1,
    window: MCP_WINDOW,
  }
  const databaseUrl = options.databaseUrl ?? 'memory://'
  const contenders: Contender[] = []
  if (gateway && options.targets.includes('parley'))
    contenders.push({
      label: TARGET_LABELS.parley,
      target: 'parley',
      gateway: {
        entry: gateway.path,
        storeBackend: 'memory',
        database: async () => ({ url: databaseUrl, drop: async () => {} }),
      },
    })
  contenders.push({ label: DIRECT_LABEL, target: DIRECT_TARGET })
  return {
    name: 'mcp',
    description: [
      `MCP: one SDK client keeping ${MCP_WINDOW} tools/call in flight (~${load.payloadBytes} B arguments), ` +
        `${load.warmupMs / 1000} s warm-up + ${load.durationMs / 1000} s measured, ${options.runs} run(s) of ` +
        `${contenders.map((contender) => contender.label).join(', ')}`,
      'Parley: /mcp → an AgentClient answering at once (tool bench__echo); direct: an SDK McpServer (tool echo), ' +
        'stateless Streamable HTTP, JSON answers',
    ],
    load,
    contenders,
    rows: contenders,
    database: undefined,
    render: renderMcpTable,
    runOne: (contender, run) => runMcp(contender, run, load),
  }
}
