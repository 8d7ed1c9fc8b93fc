import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { redactDatabaseUrl } from './databases.js'
import type { BenchOptions, ScenarioName, TargetName } from './options.js'
import { redactRedisUrl } from './redis.js'
import type { LoadPlan, RunResult } from './run-plan.js'

export const TARGET_LABELS: Record<TargetName, string> = {
  parley: 'parley',
  ws: 'ws',
  socketio: 'socket.io',
  a2a: 'a2a-js direct',
}

/** Per-row medians over the successful runs; each metric's median is taken on its own. */
export interface RowSummary {
  label: string
  target: TargetName
  runs: number
  failedRuns: number
  /** Why the row did not run at all (e.g. no PostgreSQL server). */
  skipped?: string
  deliveriesPerSecond: number | undefined
  publishesPerSecond: number | undefined
  /** Request scenario only. */
  roundTripsPerSecond: number | undefined
  p50Ms: number | undefined
  p99Ms: number | undefined
  ackP50Ms: number | undefined
  ackP99Ms: number | undefined
  serverRssMb: number | undefined
  serverCpuPercent: number | undefined
  /** The whole machine's busy share over the measured window (all cores, load processes included). */
  machineBusyPercent: number | undefined
}

/** A row of a table; `skipped` says why it could not run (it is then shown without numbers). */
export interface TableRow {
  label: string
  target: TargetName
  skipped?: string
}

export function median(values: Array<number | undefined>): number | undefined {
  const sorted = values.filter((value): value is number => value !== undefined).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

/** One summary per row, in the order of `rows` (skipped rows included, with nothing measured). */
export function summarise(rows: TableRow[], results: RunResult[]): RowSummary[] {
  return rows.map(({ label, target, skipped }) => {
    const mine = results.filter((result) => result.label === label)
    const ok = mine.filter((result) => result.ok)
    const medianOf = (metric: (result: RunResult) => number | undefined) => median(ok.map(metric))
    return {
      label,
      target,
      runs: ok.length,
      failedRuns: mine.length - ok.length,
      ...(skipped === undefined ? {} : { skipped }),
      deliveriesPerSecond: medianOf((result) => result.deliveriesPerSecond),
      publishesPerSecond: medianOf((result) => result.publishesPerSecond),
      roundTripsPerSecond: medianOf((result) => result.roundTripsPerSecond),
      p50Ms: medianOf((result) => result.p50Ms),
      p99Ms: medianOf((result) => result.p99Ms),
      ackP50Ms: medianOf((result) => result.ackP50Ms),
      ackP99Ms: medianOf((result) => result.ackP99Ms),
      serverRssMb: medianOf((result) => result.serverRssMb),
      serverCpuPercent: medianOf((result) => result.serverCpuPercent),
      machineBusyPercent: medianOf((result) => result.machineBusyPercent),
    }
  })
}

export function ratio(numerator: number | undefined, denominator: number | undefined): number | undefined {
  return numerator === undefined || denominator === undefined || denominator === 0
    ? undefined
    : numerator / denominator
}

export const integer = (value: number | undefined) =>
  value === undefined ? 'n/a' : Math.round(value).toLocaleString('en-US')
export const fixed = (digits: number) => (value: number | undefined) =>
  value === undefined ? 'n/a' : value.toFixed(digits)
export const times = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(2)}x`)

function rowName(summary: RowSummary): string {
  if (summary.skipped !== undefined) return `${summary.label} (skipped)`
  return `${summary.label}${summary.failedRuns > 0 ? ` (${summary.failedRuns} failed)` : ''}`
}

/** Aligned columns: the first left-aligned, the others right-aligned, a rule under the header. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      // Rows without ratio cells (the baselines) would otherwise end in spaces.
      .trimEnd()
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)]
}

/** A table, then its comparison lines, the skipped rows' reasons and the legend. */
function tableWithNotes(
  header: string[],
  rows: string[][],
  comparisons: string[],
  summaries: RowSummary[],
  legend: string,
): string {
  return [
    ...formatTable(header, rows),
    ...(comparisons.length > 0 ? ['', ...comparisons] : []),
    ...skippedNotes(summaries),
    '',
    legend,
  ].join('\n')
}

/**
 * A row's ratio columns against each baseline (Parley ÷ baseline: `throughput`, then p99); empty cells on
 * the baselines' own rows.
 */
function versusBaselines(
  summary: RowSummary,
  baselines: RowSummary[],
  throughput: (summary: RowSummary) => number | undefined,
): string[] {
  return baselines.flatMap((baseline) =>
    summary.target === 'parley'
      ? [times(ratio(throughput(summary), throughput(baseline))), times(ratio(summary.p99Ms, baseline.p99Ms))]
      : ['', ''],
  )
}

/** The legend of the `host %` column. */
const HOST_NOTE =
  'host %: the whole machine busy over the window, of all its cores (load processes and databases included).'

function skippedNotes(summaries: RowSummary[]): string[] {
  return summaries
    .filter((summary) => summary.skipped !== undefined)
    .map((summary) => `${summary.label} skipped: ${summary.skipped}`)
}

/**
 * The fan-out table. The two ratio columns compare Parley with each row: throughput as Parley ÷ row
 * (above 1 means Parley delivers more) and p99 as Parley ÷ row (below 1 means Parley's tail is shorter).
 */
export function renderFanoutTable(
  summaries: RowSummary[],
  serversNote = 'CPU %: server process over the measured window.',
): string {
  const parley = summaries.find((summary) => summary.target === 'parley')
  const header = [
    'target',
    'deliveries/s',
    'publishes/s',
    'p50 ms',
    'p99 ms',
    'RSS MB',
    'CPU %',
    'host %',
    'thr P/x',
    'p99 P/x',
  ]
  const rows = summaries.map((summary) => [
    rowName(summary),
    integer(summary.deliveriesPerSecond),
    integer(summary.publishesPerSecond),
    fixed(2)(summary.p50Ms),
    fixed(2)(summary.p99Ms),
    fixed(1)(summary.serverRssMb),
    fixed(0)(summary.serverCpuPercent),
    fixed(0)(summary.machineBusyPercent),
    times(ratio(parley?.deliveriesPerSecond, summary.deliveriesPerSecond)),
    times(ratio(parley?.p99Ms, summary.p99Ms)),
  ])
  const comparisons = summaries
    .filter((summary) => summary.target !== 'parley' && parley !== undefined && parley.runs > 0)
    .map(
      (summary) =>
        `Parley / ${summary.label}: throughput ${times(ratio(parley?.deliveriesPerSecond, summary.deliveriesPerSecond))}` +
        `, p99 ${times(ratio(parley?.p99Ms, summary.p99Ms))}`,
    )
  const legend =
    'P/x: Parley divided by the row (throughput above 1: Parley delivers more; p99 below 1: shorter tail). ' +
    `${serversNote} ${HOST_NOTE}`
  return tableWithNotes(header, rows, comparisons, summaries, legend)
}

/** The cross-node table: the fan-out table's columns, RSS and CPU summed over both nodes. */
export function renderCrossNodeTable(summaries: RowSummary[]): string {
  return renderFanoutTable(
    summaries,
    'RSS MB and CPU %: both server nodes together (not Redis, not PostgreSQL), over the measured window.',
  )
}

/**
 * The durable table: acknowledged publishes/s, publish-to-delivery and publish-to-acknowledgement
 * latency per row, and each Parley row against each baseline (Parley ÷ baseline, as in the fan-out table).
 */
export function renderDurableTable(summaries: RowSummary[]): string {
  const baselines = summaries.filter((summary) => summary.target !== 'parley' && summary.runs > 0)
  const header = [
    'target',
    'publishes/s',
    'p50 ms',
    'p99 ms',
    'ack p50 ms',
    'ack p99 ms',
    'RSS MB',
    'CPU %',
    'host %',
    ...baselines.flatMap((baseline) => [`pub P/${baseline.label}`, `p99 P/${baseline.label}`]),
  ]
  const rows = summaries.map((summary) => {
    if (summary.skipped !== undefined) return [rowName(summary), ...header.slice(1).map(() => '')]
    return [
      rowName(summary),
      integer(summary.publishesPerSecond),
      fixed(2)(summary.p50Ms),
      fixed(2)(summary.p99Ms),
      fixed(2)(summary.ackP50Ms),
      fixed(2)(summary.ackP99Ms),
      fixed(1)(summary.serverRssMb),
      fixed(0)(summary.serverCpuPercent),
      fixed(0)(summary.machineBusyPercent),
      ...versusBaselines(summary, baselines, (row) => row.publishesPerSecond),
    ]
  })
  const comparisons = summaries
    .filter((summary) => summary.target === 'parley' && summary.runs > 0)
    .flatMap((parley) =>
      baselines.map(
        (baseline) =>
          `${parley.label} / ${baseline.label}: publishes/s ${times(ratio(parley.publishesPerSecond, baseline.publishesPerSecond))}` +
          `, delivery p99 ${times(ratio(parley.p99Ms, baseline.p99Ms))}`,
      ),
    )
  // The embedded database (the default) against a PostgreSQL server, on the same store backend.
  const embedded = summaries.find((summary) => summary.label === 'parley (embedded)' && summary.runs > 0)
  const server = summaries.find((summary) => summary.label === 'parley (postgres)' && summary.runs > 0)
  if (embedded !== undefined && server !== undefined) {
    comparisons.push(
      `parley (embedded) / parley (postgres): publishes/s ${times(ratio(embedded.publishesPerSecond, server.publishesPerSecond))}` +
        `, delivery p99 ${times(ratio(embedded.p99Ms, server.p99Ms))}`,
    )
  }
  const legend =
    'publishes/s: acknowledged publications per second. p50/p99: publish to delivery at the subscribers; ' +
    'ack p50/p99: publish to acknowledgement at the publisher. P/x: the Parley row divided by baseline x ' +
    '(publishes/s above 1: Parley acknowledges more; p99 below 1: shorter tail). CPU %: server process only ' +
    `(not PostgreSQL) over the measured window. ${HOST_NOTE}`
  return tableWithNotes(header, rows, comparisons, summaries, legend)
}

/** The label of a Parley row's twin with the audit off: `parley (audit off)`, `parley (embedded, audit off)`. */
export function auditOffLabel(label: string): string {
  return label.endsWith(')') ? `${label.slice(0, -1)}, audit off)` : `${label} (audit off)`
}

/**
 * The request table: round trips per second and round-trip latency per row, and Parley against each
 * baseline (Parley ÷ baseline: round trips above 1, Parley answers more; p99 below 1, shorter tail).
 */
export function renderRequestTable(summaries: RowSummary[]): string {
  const parley = summaries.find((summary) => summary.target === 'parley' && summary.runs > 0)
  // Without a Parley row that ran there is nothing to divide: no ratio columns.
  const baselines = parley
    ? summaries.filter((summary) => summary.target !== 'parley' && summary.runs > 0)
    : []
  const header = [
    'target',
    'round trips/s',
    'p50 ms',
    'p99 ms',
    'RSS MB',
    'CPU %',
    'host %',
    ...baselines.flatMap((baseline) => [`rt P/${baseline.label}`, `p99 P/${baseline.label}`]),
  ]
  const rows = summaries.map((summary) => [
    rowName(summary),
    integer(summary.roundTripsPerSecond),
    fixed(2)(summary.p50Ms),
    fixed(2)(summary.p99Ms),
    fixed(1)(summary.serverRssMb),
    fixed(0)(summary.serverCpuPercent),
    fixed(0)(summary.machineBusyPercent),
    ...versusBaselines(summary, baselines, (row) => row.roundTripsPerSecond),
  ])
  // With `--audit both` there are two Parley rows: each is compared with the baselines, then with the other.
  const parleyRows = summaries.filter((summary) => summary.target === 'parley' && summary.runs > 0)
  const comparisons = parleyRows.flatMap((row) =>
    baselines.map(
      (baseline) =>
        `${row.label === 'parley' ? 'Parley' : row.label} / ${baseline.label}: round trips/s ` +
        `${times(ratio(row.roundTripsPerSecond, baseline.roundTripsPerSecond))}` +
        `, p99 ${times(ratio(row.p99Ms, baseline.p99Ms))}`,
    ),
  )
  // Each Parley row beside its audit-off twin (`--audit both`): what the audit costs on that database.
  for (const auditOn of parleyRows) {
    const auditOff = parleyRows.find((row) => row.label === auditOffLabel(auditOn.label))
    if (auditOff === undefined) continue
    comparisons.push(
      `${auditOn.label === 'parley' ? 'Parley' : auditOn.label} audit on / off: round trips/s ` +
        `${times(ratio(auditOn.roundTripsPerSecond, auditOff.roundTripsPerSecond))}` +
        `, p99 ${times(ratio(auditOn.p99Ms, auditOff.p99Ms))} (target ≤ 1.2x)`,
    )
  }
  const legend =
    'round trips/s: requests sent in the measured window and answered with a reply, per second. ' +
    'p50/p99: request to reply at the caller. P/x: Parley divided by baseline x (round trips above 1: ' +
    `Parley answers more; p99 below 1: shorter tail). CPU %: server process over the measured window. ${HOST_NOTE}`
  return tableWithNotes(header, rows, comparisons, summaries, legend)
}

export interface ResultsFile {
  startedAt: string
  finishedAt: string
  options: BenchOptions
  machine: {
    cpus: number
    cpuModel: string | undefined
    totalMemoryMb: number
    node: string
    platform: string
    loadAverageAtStart: number[]
    loadAverageAtEnd: number[]
  }
  commit: string | undefined
  /** The gateway entry point, when Parley was a target. */
  gateway: { path: string } | undefined
  scenarios: ScenarioResults[]
}

export interface ScenarioResults {
  name: ScenarioName
  load: LoadPlan
  /** Where Parley's database lived, password hidden. */
  database: string | undefined
  medians: RowSummary[]
  runs: RunResult[]
  /** The paced runs after the saturating ones (see `ScenarioPlan.pacedShareOfParley`). */
  paced?: { ratePerSecond: number; medians: RowSummary[]; runs: RunResult[] }
}

export function machineInfo(loadAverageAtStart: number[]): ResultsFile['machine'] {
  const processors = cpus()
  return {
    cpus: processors.length,
    cpuModel: processors[0]?.model,
    totalMemoryMb: Math.round(totalmem() / (1024 * 1024)),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart,
    loadAverageAtEnd: loadavg(),
  }
}

export function currentCommit(cwd: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return undefined
  }
}

/** Writes `<dir>/<timestamp>.json` and returns its path. */
export function writeResults(dir: string, results: ResultsFile): string {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${results.startedAt.replace(/[:.]/g, '-')}.json`)
  // No password from a database or Redis URL goes into the file.
  const options = {
    ...results.options,
    databaseUrl:
      results.options.databaseUrl === undefined ? undefined : redactDatabaseUrl(results.options.databaseUrl),
    redisUrl: redactRedisUrl(results.options.redisUrl),
  }
  writeFileSync(path, `${JSON.stringify({ ...results, options }, null, 2)}\n`)
  return path
}
