/**
 * The connections scenario: `--connections` idle WebSocket connections on one server, opened by several load
 * processes (each from its own 127.0.0.x, at most IDLE_CLIENTS_PER_PROCESS each, far below the 20,000 open
 * files a process may hold), each subscribed to one of `--connection-channels` channels, every server with its
 * default heartbeat. Measured: RSS per connection above the empty server, CPU over an idle window, then one
 * publication per channel, which every connection must receive. See ../README.md, "Connections scenario".
 */
import { fileURLToPath } from 'node:url'
import { publishToChannels } from './load/idle-clients.js'
import type { FromIdleWorker, IdleWorkerConfig, IdleWorkerResult } from './load/idle-worker.js'
import { addCounts, megabytes, shareOf } from './measurement.js'
import type { BenchOptions } from './options.js'
import { forkTs, readCpuMs, readMemory, sendTo, stopProcess, waitForMessage } from './processes.js'
import { fixed, formatTable, integer, median, type RowSummary, ratio, times } from './report.js'
import { type Contender, failedRun, type PublishLoad, type RunResult } from './run-plan.js'
import type { GatewayEntry, ScenarioPlan } from './scenario-plan.js'
import { EMBEDDED_DATABASE, startServer } from './servers.js'

const IDLE_WORKER = fileURLToPath(new URL('./load/idle-worker.ts', import.meta.url))
/** Connections per load process at most: a quarter of the open-file limit, whatever the count. */
export const IDLE_CLIENTS_PER_PROCESS = 5_000
/** After the last connection is in, before the idle window: late handshake work and timers settle. */
const SETTLE_MS = 2_000
/** How long the connections get to receive the publications. */
const RECEIVE_WAIT_MS = 30_000
/** The targets the issue sets for Parley (RSS per connection, idle CPU). */
const TARGET_KB_PER_CONNECTION = 20
const TARGET_IDLE_CORES = 0.1

/** What one run of one server measured. */
export interface ConnectionFigures {
  connected: number
  connectSeconds: number
  emptyRssMb: number | undefined
  rssMb: number | undefined
  /** (RSS with the connections − RSS of the empty server) ÷ connections, in KB. */
  kbPerConnection: number | undefined
  /** CPU time over the idle window ÷ its wall time: cores used. */
  idleCores: number | undefined
  channels: number
  /** Deliveries the server reported in its acknowledgements. */
  deliveredByServer: number
  received: number
  expected: number
  missing: number
  duplicated: number
  closedByCode: Record<string, number>
}

type ConnectionsRunResult = RunResult & { connections: ConnectionFigures }

export function channelName(index: number): string {
  return `bench.connections.${index}`
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** How long a full collection and the pages it frees get before the RSS is read. */
const COLLECT_WAIT_MS = 1_500

/**
 * The server's RSS after a full garbage collection (servers/collect-on-signal.ts): a freshly started gateway
 * holds its start-up garbage (hundreds of MB from the embedded database's migrations) until some later
 * collection, which would make the connections look free; every target is read the same way.
 */
async function collectedMemory(pid: number): Promise<ReturnType<typeof readMemory>> {
  process.kill(pid, 'SIGUSR2')
  await sleep(COLLECT_WAIT_MS)
  return readMemory(pid)
}

function forkIdleWorkers(count: number, label: string) {
  const workers = Array.from({ length: count }, () => forkTs(IDLE_WORKER, []))
  const booted = Promise.all(
    workers.map((child, index) =>
      waitForMessage<'booted', FromIdleWorker>(child, 'booted', 60_000, `${label} load process ${index}`),
    ),
  )
  booted.catch(() => {})
  return { workers, booted, stop: () => Promise.all(workers.map((child) => stopProcess(child, 1000))) }
}

async function runConnections(
  contender: Contender,
  run: number,
  options: BenchOptions,
  record: (figures: ConnectionFigures) => void,
): Promise<RunResult> {
  const { target, label, gateway } = contender
  const total = options.connections
  const processes = Math.max(2, Math.ceil(total / IDLE_CLIENTS_PER_PROCESS))
  const channels = Array.from({ length: options.connectionChannels }, (_, index) => channelName(index))
  const database = await gateway?.database()
  const pool = forkIdleWorkers(processes, label)
  try {
    const server = await startServer(target, {
      kind: 'connections',
      maxConnections: total + 100,
      defaultHeartbeat: true,
      collectOnSignal: true,
      gateway:
        gateway && database
          ? { entry: gateway.entry, storeBackend: gateway.storeBackend, databaseUrl: database.url }
          : undefined,
    })
    try {
      await pool.booted
      await sleep(SETTLE_MS)
      const empty = await collectedMemory(server.pid)
      const connectStartedAt = performance.now()
      // Parley records a session per connection (in its embedded database): ~100-300 handshakes/s here.
      const setupTimeoutMs = 60_000 + total * 30
      let first = 0
      const ready = pool.workers.map((child, index) => {
        const count = shareOf(total, processes, index)
        const config: IdleWorkerConfig = {
          target,
          baseUrl: server.baseUrl,
          // 127.0.0.2, .3, …: each process its own source address, so ephemeral ports never run short.
          localAddress: `127.0.0.${2 + index}`,
          first,
          count,
          channels,
          connectConcurrency: Math.max(1, Math.ceil(options.connectConcurrency / processes)),
          deadlineMs: setupTimeoutMs + options.idleMs + 300_000,
        }
        first += count
        sendTo(child, { type: 'config', config })
        return waitForMessage<'ready', FromIdleWorker>(
          child,
          'ready',
          setupTimeoutMs,
          `${label} load process ${index}`,
        )
      })
      const connected = (await Promise.all(ready)).reduce((sum, message) => sum + message.connections, 0)
      const connectSeconds = (performance.now() - connectStartedAt) / 1000

      await sleep(SETTLE_MS)
      const cpuAtStart = readCpuMs(server.pid)
      const idleStartedAt = performance.now()
      await sleep(options.idleMs)
      const cpuAtEnd = readCpuMs(server.pid)
      const idleSeconds = (performance.now() - idleStartedAt) / 1000
      const loaded = await collectedMemory(server.pid)

      const deliveredByServer = await publishToChannels(target, server.baseUrl, channels, 15_000)
      const results = await Promise.all(
        pool.workers.map((child, index) => {
          const result = waitForMessage<'idle-result', FromIdleWorker>(
            child,
            'idle-result',
            RECEIVE_WAIT_MS + 15_000,
            `${label} load process ${index}`,
          )
          sendTo(child, { type: 'report', waitMs: RECEIVE_WAIT_MS })
          return result.then((message) => message.result)
        }),
      )
      const figures = summariseFigures(results, {
        connected,
        connectSeconds,
        channels: channels.length,
        deliveredByServer,
        empty,
        loaded,
        idleCores:
          cpuAtStart === undefined || cpuAtEnd === undefined
            ? undefined
            : (cpuAtEnd - cpuAtStart) / 1000 / idleSeconds,
      })
      const result: ConnectionsRunResult = {
        ...failedRun(contender, run, ''),
        ok: figures.missing === 0 && figures.connected === total,
        error: undefined,
        serverRssMb: figures.rssMb,
        serverPeakRssMb: megabytes(loaded?.peakRssBytes),
        serverCpuPercent: figures.idleCores === undefined ? undefined : figures.idleCores * 100,
        subscribers: connected,
        measuredMs: idleSeconds * 1000,
        measuredPublished: channels.length,
        measuredDeliveries: figures.received,
        expectedDeliveries: figures.expected,
        closedByCode: figures.closedByCode,
        drained: figures.missing === 0,
        connections: figures,
      }
      if (!result.ok) {
        // Loudly: the run fails, and so does the bench's exit code.
        result.error =
          `received ${figures.received.toLocaleString('en-US')} / ${figures.expected.toLocaleString('en-US')} ` +
          `publications (${figures.missing} connections got none) on ${connected} of ${total} connections`
        process.exitCode = 1
      }
      record(figures)
      return result
    } finally {
      await pool.stop()
      await server.stop()
    }
  } finally {
    await pool.stop()
    await database?.drop()
  }
}

function summariseFigures(
  results: IdleWorkerResult[],
  measured: {
    connected: number
    connectSeconds: number
    channels: number
    deliveredByServer: number
    empty: ReturnType<typeof readMemory>
    loaded: ReturnType<typeof readMemory>
    idleCores: number | undefined
  },
): ConnectionFigures {
  const closedByCode: Record<string, number> = {}
  for (const result of results) addCounts(closedByCode, result.closedByCode)
  const { empty, loaded, ...rest } = measured
  const sum = (pick: (result: IdleWorkerResult) => number) =>
    results.reduce((total, result) => total + pick(result), 0)
  return {
    ...rest,
    emptyRssMb: megabytes(empty?.rssBytes),
    rssMb: megabytes(loaded?.rssBytes),
    kbPerConnection:
      empty === undefined || loaded === undefined || measured.connected === 0
        ? undefined
        : (loaded.rssBytes - empty.rssBytes) / 1024 / measured.connected,
    received: sum((result) => result.received),
    // Every connection is subscribed to exactly one channel, and every channel gets one publication.
    expected: measured.connected,
    missing: sum((result) => result.missing),
    duplicated: sum((result) => result.duplicated),
    closedByCode,
  }
}

function describeConnectionsRun(result: RunResult, label: string): string {
  const figures = (result as Partial<ConnectionsRunResult>).connections
  if (figures === undefined) return `${label} no figures`
  const closed =
    Object.keys(figures.closedByCode).length > 0 ? `, closed: ${JSON.stringify(figures.closedByCode)}` : ''
  return (
    `${label} ${integer(figures.connected)} connected in ${figures.connectSeconds.toFixed(1)} s, ` +
    `RSS ${fixed(1)(figures.emptyRssMb)} → ${fixed(1)(figures.rssMb)} MB (${fixed(1)(figures.kbPerConnection)} KB/conn), ` +
    `idle CPU ${fixed(3)(figures.idleCores)} cores, ` +
    `received ${integer(figures.received)} / ${integer(figures.expected)}` +
    `${figures.duplicated > 0 ? ` (${figures.duplicated} twice)` : ''}${closed}`
  )
}

/** Medians per row of the figures `runs` recorded, in the style of the other scenarios' tables. */
export function renderConnectionsTable(
  summaries: RowSummary[],
  runs: Map<string, ConnectionFigures[]>,
): string {
  const medians = summaries.map((summary) => {
    const figures = runs.get(summary.label) ?? []
    const of = (pick: (figure: ConnectionFigures) => number | undefined) => median(figures.map(pick))
    return {
      summary,
      connected: of((figure) => figure.connected),
      received: of((figure) => figure.received),
      expected: of((figure) => figure.expected),
      emptyRssMb: of((figure) => figure.emptyRssMb),
      rssMb: of((figure) => figure.rssMb),
      kb: of((figure) => figure.kbPerConnection),
      cores: of((figure) => figure.idleCores),
    }
  })
  const parley = medians.find((row) => row.summary.target === 'parley' && row.kb !== undefined)
  const baselines = medians.filter((row) => row.summary.target !== 'parley' && row.kb !== undefined)
  const header = [
    'target',
    'connections',
    'received',
    'empty RSS MB',
    'RSS MB',
    'KB/conn',
    'idle cores',
    ...baselines.flatMap((row) => [`KB P/${row.summary.label}`, `CPU P/${row.summary.label}`]),
  ]
  const rows = medians.map((row) => [
    row.summary.failedRuns > 0
      ? `${row.summary.label} (${row.summary.failedRuns} failed)`
      : row.summary.label,
    integer(row.connected),
    row.received === undefined ? 'n/a' : `${integer(row.received)}/${integer(row.expected)}`,
    fixed(1)(row.emptyRssMb),
    fixed(1)(row.rssMb),
    fixed(1)(row.kb),
    fixed(3)(row.cores),
    ...baselines.flatMap((baseline) =>
      row === parley
        ? [times(ratio(row.kb, baseline.kb)), times(ratio(row.cores, baseline.cores))]
        : ['', ''],
    ),
  ])
  const lines = formatTable(header, rows)
  if (parley) {
    lines.push('')
    for (const baseline of baselines) {
      lines.push(
        `Parley / ${baseline.summary.label}: RSS per connection ${times(ratio(parley.kb, baseline.kb))}, ` +
          `idle CPU ${times(ratio(parley.cores, baseline.cores))}`,
      )
    }
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met')
    lines.push(
      `Parley targets: ≤ ${TARGET_KB_PER_CONNECTION} KB per connection ${met(parley.kb !== undefined && parley.kb >= 0 && parley.kb <= TARGET_KB_PER_CONNECTION)}` +
        `, ≤ ${TARGET_IDLE_CORES} core idle ${met((parley.cores ?? Number.POSITIVE_INFINITY) <= TARGET_IDLE_CORES)}`,
    )
  }
  lines.push(
    '',
    'KB/conn: (RSS holding the connections, at the end of the idle window − RSS of the empty server) ÷ connections. ' +
      'idle cores: server CPU time over the idle window ÷ its length, default heartbeats on. received: connections ' +
      'that got the one publication of their channel / connections. P/x: Parley divided by baseline x (below 1: ' +
      'Parley holds a connection with less).',
  )
  return lines.join('\n')
}

/** The connections scenario's plan: every target holds the same connections, runs interleaved. */
export function connectionsPlan(
  options: BenchOptions,
  gateway: GatewayEntry,
  /** Every target once, Parley on `--database-url` (default memory://) with the memory store backend. */
  contenders: Contender[],
): ScenarioPlan {
  const processes = Math.max(2, Math.ceil(options.connections / IDLE_CLIENTS_PER_PROCESS))
  // The runner's budget and the results file read the load as a publish load: the idle window is its measure.
  const load: PublishLoad = {
    kind: 'publish',
    workers: processes,
    payloadBytes: 0,
    warmupMs: SETTLE_MS,
    durationMs: options.idleMs,
    connectConcurrency: options.connectConcurrency,
    channel: channelName(0),
    subscribers: options.connections,
    window: 1,
  }
  // The default gateway's embedded database (a data folder, as `pnpm start` opens it), unless --database-url:
  // `memory://` sets the database up in the serving thread, whose garbage (~500 MB) is returned while the
  // connections are held and made the RSS per connection negative.
  const databaseUrl = options.databaseUrl ?? EMBEDDED_DATABASE
  const databaseLabel = databaseUrl === EMBEDDED_DATABASE ? 'embedded (data folder)' : databaseUrl
  const figures = new Map<string, ConnectionFigures[]>()
  const record = (label: string) => (figure: ConnectionFigures) => {
    figures.set(label, [...(figures.get(label) ?? []), figure])
  }
  return {
    name: 'connections',
    description: [
      `Connections: ${options.connections.toLocaleString('en-US')} idle WebSocket connections on one server from ` +
        `${processes} load processes (127.0.0.2-${1 + processes}), each subscribed to one of ` +
        `${options.connectionChannels} channels, default heartbeats, ${options.idleMs / 1000} s idle window, ` +
        `then one publication per channel; ${options.runs} run(s) of ` +
        contenders.map((contender) => contender.label).join(', '),
      `Servers: parley (heartbeatInterval default, --store-backend memory, database ${databaseLabel}` +
        `${gateway ? `, CLI ${gateway.path}` : ''}); ws (channel sets, ping every 30 s); socket.io (rooms, its default 25 s ping)`,
    ],
    load,
    contenders,
    rows: contenders,
    database: gateway ? databaseLabel : undefined,
    render: (summaries) => renderConnectionsTable(summaries, figures),
    runOne: (contender, run) => runConnections(contender, run, options, record(contender.label)),
    describeRun: describeConnectionsRun,
  }
}
