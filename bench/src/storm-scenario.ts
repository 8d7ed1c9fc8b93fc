/**
 * The storm scenario: `--storm-subscribers` subscribers (default 10,000) on 10 channels, through TCP proxies,
 * while a publisher publishes numbered messages on every channel. Parley (store backend postgres, a fresh
 * database per run) is SIGKILLed and restarted on its port and database, then every socket is cut at once at
 * the proxies; Socket.IO with connection state recovery gets the same cut. Every client must come back and
 * recover: the bench fails (exit code 1) when a Parley client is not back, not recovered, or missed or got
 * twice a publication. See ../README.md, "Storm scenario".
 */
import { createRunDatabase, probeServer, redactDatabaseUrl, requireServer } from './databases.js'
import type { BenchOptions } from './options.js'
import { DEFAULT_POSTGRES_URL } from './options.js'
import { fixed, median, TARGET_LABELS, type TableRow } from './report.js'
import type { Contender, PublishLoad, RunResult } from './run-plan.js'
import { failedRun } from './run-plan.js'
import type { GatewayEntry, ScenarioPlan } from './scenario-plan.js'
import type { StormFigures } from './storm-figures.js'
import { runStorm, type StormSettings } from './storm-run.js'

export const STORM_CHANNELS = 10
const PARLEY_LABEL = 'parley (postgres)'
const STORM_SETTLE_MS = 6000

/** One line per finished run, printed by run.ts. */
export function describeStormRun(figures: StormFigures): string {
  const phases = figures.phases.map(
    (phase) =>
      `${phase.phase}: back ${seconds(phase.backMs)} s, caught up ${seconds(phase.caughtUpMs)} s, ` +
      `recovered ${percent(phase.clientsRecovered, figures.subscribers)} %, gaps ${phase.gaps}, ` +
      `duplicates ${phase.duplicates}, peak RSS ${fixed(1)(phase.peakRssMb)} MB`,
  )
  const problems = figures.problems.length > 0 ? ` PROBLEMS: ${figures.problems.join('; ')}` : ''
  return `${phases.join(' | ')}${problems}`
}

const seconds = (ms: number | undefined) => (ms === undefined ? 'n/a' : (ms / 1000).toFixed(2))
const percent = (part: number, whole: number) => (whole === 0 ? 'n/a' : ((100 * part) / whole).toFixed(2))

function toRunResult(contender: Contender, run: number, figures: StormFigures): RunResult {
  const peaks = figures.phases.map((phase) => phase.peakRssMb).filter((mb) => mb !== undefined)
  const published = Object.values(figures.publisher?.acked ?? {}).reduce((sum, n) => sum + n, 0)
  return {
    ...failedRun(contender, run, ''),
    ok: true,
    error: undefined,
    storm: figures,
    subscribers: figures.subscribers,
    serverRssMb: figures.steadyRssMb,
    serverPeakRssMb: peaks.length > 0 ? Math.max(...peaks) : undefined,
    measuredPublished: published,
    measuredDeliveries: figures.received,
    expectedDeliveries: figures.expected,
    errorsByCode: figures.publisher?.errorsByCode ?? {},
    drained: figures.clientsBehindAtEnd === 0,
  }
}

/** The table: one line per row and disruption, medians of the timings and memory, totals of the counts. */
function renderStorm(rows: TableRow[], results: RunResult[]): string {
  const header = [
    'target',
    'disruption',
    'runs',
    'back s',
    'caught up s',
    'down s',
    'peak RSS MB',
    'recovered %',
    'gaps',
    'duplicates',
  ]
  const lines: string[][] = []
  for (const row of rows) {
    if (row.skipped !== undefined) {
      lines.push([`${row.label} (skipped)`, ...header.slice(1).map(() => '')])
      continue
    }
    const mine = results.filter((result) => result.label === row.label)
    const figures = mine.flatMap((result) => (result.storm ? [result.storm] : []))
    const failed = mine.length - figures.length
    const phaseNames = figures[0]?.phases.map((phase) => phase.phase) ?? []
    if (phaseNames.length === 0)
      lines.push([`${row.label} (${failed} failed)`, ...header.slice(1).map(() => '')])
    for (const name of phaseNames) {
      const phases = figures.flatMap((run) => run.phases.filter((phase) => phase.phase === name))
      const medianOf = (metric: (phase: (typeof phases)[number]) => number | undefined) =>
        median(phases.map(metric))
      const worstRecovered = Math.min(
        ...figures.map((run) => {
          const phase = run.phases.find((candidate) => candidate.phase === name)
          return phase === undefined ? 0 : (100 * phase.clientsRecovered) / run.subscribers
        }),
      )
      lines.push([
        failed > 0 ? `${row.label} (${failed} failed)` : row.label,
        name,
        String(figures.length),
        seconds(medianOf((phase) => phase.backMs)),
        seconds(medianOf((phase) => phase.caughtUpMs)),
        seconds(medianOf((phase) => phase.downMs)),
        fixed(1)(medianOf((phase) => phase.peakRssMb)),
        worstRecovered.toFixed(2),
        String(phases.reduce((sum, phase) => sum + phase.gaps, 0)),
        String(phases.reduce((sum, phase) => sum + phase.duplicates, 0)),
      ])
    }
  }
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)),
  )
  const format = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd()
  return [
    format(header),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...lines.map(format),
    ...rows.filter((row) => row.skipped !== undefined).map((row) => `${row.label} skipped: ${row.skipped}`),
    '',
    'back s: from the SIGKILL or the cut until every client had its subscription back; caught up s: until every ' +
      'client had every publication acknowledged when the last one came back; down s: SIGKILL until the new ' +
      "gateway answered /health; peak RSS: the server's highest RSS sampled every 100 ms in the phase; " +
      'recovered %: clients back whose every restoration reported full recovery (Parley: recovered: true; ' +
      'Socket.IO: socket.recovered), the lowest over the runs; gaps, duplicates: publications a client missed or ' +
      'got twice, all runs. Timings and RSS: medians over the runs.',
  ].join('\n')
}

/** The storm plan: Parley on the postgres store backend (restart and cut), Socket.IO with recovery (cut). */
export async function stormPlan(options: BenchOptions, gateway: GatewayEntry): Promise<ScenarioPlan> {
  const settings: StormSettings = {
    subscribers: options.stormSubscribers,
    channels: Array.from({ length: STORM_CHANNELS }, (_, index) => `storm.${index}`),
    ratePerChannel: options.stormRate,
    workers: options.workers,
    connectConcurrency: options.connectConcurrency,
    // Longer than PushClient's resetAfterMs (5 s): each disruption meets connections settled as in production,
    // whose reconnect backoff starts over, not the backoff left from the previous disruption.
    settleMs: Math.max(STORM_SETTLE_MS, options.warmupMs),
    loadNice: options.stormNice,
  }
  const load: PublishLoad = {
    kind: 'publish',
    workers: options.workers,
    payloadBytes: 0,
    warmupMs: settings.settleMs,
    durationMs: 0,
    connectConcurrency: options.connectConcurrency,
    channel: 'storm.*',
    subscribers: settings.subscribers,
    window: 1,
  }
  const rows: TableRow[] = []
  const contenders: Contender[] = []
  const serverUrl = options.databaseUrl ?? DEFAULT_POSTGRES_URL
  let database: string | undefined
  if (gateway && options.targets.includes('parley')) {
    const probe =
      serverUrl === 'memory://'
        ? {
            usable: false as const,
            reason: 'a restart needs a PostgreSQL server, and memory:// dies with the gateway',
          }
        : await probeServer(serverUrl)
    requireServer(probe, options.requirePostgres)
    if (probe.usable) {
      database = `a throw-away parley_bench_* per run on ${redactDatabaseUrl(serverUrl)} (${probe.description})`
      const contender: Contender = {
        label: PARLEY_LABEL,
        target: 'parley',
        gateway: {
          entry: gateway.path,
          storeBackend: 'postgres',
          database: () => createRunDatabase(serverUrl),
        },
      }
      contenders.push(contender)
      rows.push(contender)
    } else {
      rows.push({ label: PARLEY_LABEL, target: 'parley', skipped: probe.reason })
    }
  }
  if (options.targets.includes('socketio')) {
    const contender: Contender = { label: TARGET_LABELS.socketio, target: 'socketio' }
    contenders.push(contender)
    rows.push(contender)
  }
  const results: RunResult[] = []
  const description = [
    `Storm: ${settings.subscribers} subscribers on ${STORM_CHANNELS} channels through TCP proxies, 1 publisher ` +
      `publishing numbered messages on every channel (at most ${settings.ratePerChannel}/s each), ` +
      `${options.runs} run(s) of ${rows.map((row) => row.label).join(', ')}: Parley's gateway SIGKILLed and ` +
      'restarted on its port and database, then every socket cut at the proxies; Socket.IO the cut only; ' +
      (settings.loadNice > 0
        ? `load processes at nice ${settings.loadNice} (the server and the proxies first, as on machines of their own)`
        : 'load processes at the priority of the server and the proxies'),
  ]
  if (database)
    description.push(`Parley: CLI ${gateway?.path}, --store-backend postgres, database ${database}`)
  if (options.targets.includes('ws'))
    description.push('ws: no recovery to compare, not a row of this scenario')
  return {
    name: 'storm',
    description,
    load,
    contenders,
    rows,
    database,
    render: () => renderStorm(rows, results),
    async runOne(contender, run) {
      let result: RunResult
      try {
        result = toRunResult(contender, run, await runStorm(contender, settings))
      } catch (error) {
        result = failedRun(contender, run, error)
      }
      results.push(result)
      return result
    },
    check: (runs) =>
      runs
        .filter((result) => result.target === 'parley')
        .flatMap((result) =>
          result.ok
            ? (result.storm?.problems ?? [])
            : [`${result.label} run ${result.run} failed: ${result.error}`],
        ),
  }
}
