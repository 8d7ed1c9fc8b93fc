import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import type { BenchOptions, TargetName } from './options.js'
import type { RunResult } from './scenario.js'

export const TARGET_LABELS: Record<TargetName, string> = { parley: 'parley', ws: 'ws', socketio: 'socket.io' }

/** Per-target medians over the successful runs; each metric's median is taken on its own. */
export interface TargetSummary {
  target: TargetName
  runs: number
  failedRuns: number
  deliveriesPerSecond: number | undefined
  publishesPerSecond: number | undefined
  p50Ms: number | undefined
  p99Ms: number | undefined
  serverRssMb: number | undefined
  serverCpuPercent: number | undefined
}

export function median(values: Array<number | undefined>): number | undefined {
  const sorted = values.filter((value): value is number => value !== undefined).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

export function summarise(targets: TargetName[], results: RunResult[]): TargetSummary[] {
  return targets.map((target) => {
    const mine = results.filter((result) => result.target === target)
    const ok = mine.filter((result) => result.ok)
    return {
      target,
      runs: ok.length,
      failedRuns: mine.length - ok.length,
      deliveriesPerSecond: median(ok.map((result) => result.deliveriesPerSecond)),
      publishesPerSecond: median(ok.map((result) => result.publishesPerSecond)),
      p50Ms: median(ok.map((result) => result.p50Ms)),
      p99Ms: median(ok.map((result) => result.p99Ms)),
      serverRssMb: median(ok.map((result) => result.serverRssMb)),
      serverCpuPercent: median(ok.map((result) => result.serverCpuPercent)),
    }
  })
}

function ratio(numerator: number | undefined, denominator: number | undefined): number | undefined {
  return numerator === undefined || denominator === undefined || denominator === 0
    ? undefined
    : numerator / denominator
}

const integer = (value: number | undefined) =>
  value === undefined ? 'n/a' : Math.round(value).toLocaleString('en-US')
const fixed = (digits: number) => (value: number | undefined) =>
  value === undefined ? 'n/a' : value.toFixed(digits)
const times = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(2)}x`)

/**
 * The table. The two ratio columns compare Parley with each row: throughput as Parley ÷ row (above 1
 * means Parley delivers more) and p99 as Parley ÷ row (below 1 means Parley's tail is shorter).
 */
export function renderTable(summaries: TargetSummary[]): string {
  const parley = summaries.find((summary) => summary.target === 'parley')
  const header = [
    'target',
    'deliveries/s',
    'publishes/s',
    'p50 ms',
    'p99 ms',
    'RSS MB',
    'CPU %',
    'thr P/x',
    'p99 P/x',
  ]
  const rows = summaries.map((summary) => [
    `${TARGET_LABELS[summary.target]}${summary.failedRuns > 0 ? ` (${summary.failedRuns} failed)` : ''}`,
    integer(summary.deliveriesPerSecond),
    integer(summary.publishesPerSecond),
    fixed(2)(summary.p50Ms),
    fixed(2)(summary.p99Ms),
    fixed(1)(summary.serverRssMb),
    fixed(0)(summary.serverCpuPercent),
    times(ratio(parley?.deliveriesPerSecond, summary.deliveriesPerSecond)),
    times(ratio(parley?.p99Ms, summary.p99Ms)),
  ])
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
  const lines = [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)]
  const comparisons = summaries
    .filter((summary) => summary.target !== 'parley' && parley !== undefined)
    .map(
      (summary) =>
        `Parley / ${TARGET_LABELS[summary.target]}: throughput ${times(ratio(parley?.deliveriesPerSecond, summary.deliveriesPerSecond))}` +
        `, p99 ${times(ratio(parley?.p99Ms, summary.p99Ms))}`,
    )
  const legend =
    'P/x: Parley divided by the row (throughput above 1: Parley delivers more; p99 below 1: shorter tail). ' +
    'CPU %: server process over the measured window.'
  return [...lines, ...(comparisons.length > 0 ? ['', ...comparisons] : []), '', legend].join('\n')
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
  /** How the gateway was started, when Parley was a target. */
  gateway: { path: string } | undefined
  medians: TargetSummary[]
  runs: RunResult[]
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
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`)
  return path
}
