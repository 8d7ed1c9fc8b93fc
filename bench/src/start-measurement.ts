/**
 * The default start: the gateway as `pnpm start` runs it (the built `dist/cli.js serve`, every default: the
 * embedded database on a new data folder, the database store backend), timed from spawn to its first
 * `/health` 200, then its resident memory after a few idle seconds. Not a scenario: no load, no baseline.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { freePort, readCpuMs, readMemory, removeOnExit, stopProcess, track } from './processes.js'
import { median } from './report.js'

/** Targets of issue 16 for the default start. */
const RSS_TARGET_MB = 250
const HEALTH_TARGET_MS = 3_000
const HEALTH_TIMEOUT_MS = 120_000
const POLL_MS = 20

export interface StartRun {
  run: number
  /** Spawn to the first `/health` 200. */
  healthMs: number
  /** CPU time the process had used by then (all its threads): what the start costs on an idle machine. */
  cpuMsAtHealth: number | undefined
  /** After `idleMs` without clients. */
  idleRssMb: number | undefined
  peakRssMb: number | undefined
}

export interface StartMeasurement {
  entry: string | undefined
  idleMs: number
  runs: StartRun[]
  skipped?: string
}

/** The built CLI `pnpm start` runs, or undefined before a build. */
function builtCli(): string | undefined {
  const gatewayDir = dirname(createRequire(import.meta.url).resolve('@parley/gateway/package.json'))
  const path = join(gatewayDir, 'dist', 'cli.js')
  return existsSync(path) ? path : undefined
}

async function waitForFirstHealth(url: string, exited: () => boolean): Promise<void> {
  const deadline = performance.now() + HEALTH_TIMEOUT_MS
  while (performance.now() < deadline) {
    if (exited()) throw new Error('the gateway exited before answering /health')
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) })
      await response.arrayBuffer()
      if (response.status === 200) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  throw new Error(`no /health 200 within ${HEALTH_TIMEOUT_MS / 1000} s`)
}

async function startOnce(entry: string, run: number, idleMs: number): Promise<StartRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-start-'))
  const cleanup = removeOnExit(dataDir)
  const port = await freePort()
  const startedAt = performance.now()
  // As the gateway package's `start` script: a data folder and nothing else; the port so runs cannot clash.
  const child = track(
    spawn(process.execPath, [entry, 'serve'], {
      stdio: 'ignore',
      env: { ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_PORT: String(port), PARLEY_LOG_LEVEL: 'warn' },
    }),
  )
  try {
    await waitForFirstHealth(`http://127.0.0.1:${port}/health`, () => child.exitCode !== null)
    const healthMs = performance.now() - startedAt
    const pid = child.pid ?? -1
    const cpuMsAtHealth = readCpuMs(pid)
    await new Promise((resolve) => setTimeout(resolve, idleMs))
    const memory = readMemory(pid)
    return {
      run,
      healthMs,
      cpuMsAtHealth,
      idleRssMb: memory && memory.rssBytes / 2 ** 20,
      peakRssMb: memory && memory.peakRssBytes / 2 ** 20,
    }
  } finally {
    await stopProcess(child)
    cleanup()
  }
}

/** `runs` default starts, one after the other, each on a new data folder. */
export async function measureDefaultStart(runs: number, idleMs: number): Promise<StartMeasurement> {
  const entry = builtCli()
  if (entry === undefined) {
    return { entry, idleMs, runs: [], skipped: 'no dist/cli.js: run `pnpm build` first' }
  }
  const results: StartRun[] = []
  for (let run = 1; run <= runs; run++) results.push(await startOnce(entry, run, idleMs))
  return { entry, idleMs, runs: results }
}

const format = (value: number | undefined, digits = 0) => (value === undefined ? '-' : value.toFixed(digits))

/** The lines `pnpm bench` prints: each run, then medians against the targets. */
export function renderStartMeasurement(measurement: StartMeasurement): string[] {
  const lines = [
    `Default start (pnpm start: ${measurement.entry ?? 'gateway dist/cli.js'} serve, new data folder, defaults; ` +
      `RSS after ${measurement.idleMs / 1000} s idle)`,
  ]
  if (measurement.skipped !== undefined) return [...lines, `  skipped: ${measurement.skipped}`]
  for (const run of measurement.runs) {
    lines.push(
      `[${run.run}/${measurement.runs.length}] /health 200 after ${format(run.healthMs)} ms ` +
        `(${format(run.cpuMsAtHealth)} ms CPU), idle RSS ${format(run.idleRssMb, 1)} MB, peak ${format(run.peakRssMb, 1)} MB`,
    )
  }
  const medianOf = (read: (run: StartRun) => number | undefined) => median(measurement.runs.map(read))
  const healthMs = medianOf((run) => run.healthMs)
  const rssMb = medianOf((run) => run.idleRssMb)
  lines.push(
    `Median: /health after ${format(healthMs)} ms (target ≤ ${HEALTH_TARGET_MS} ms: ${meets(healthMs, HEALTH_TARGET_MS)}), ` +
      `CPU ${format(medianOf((run) => run.cpuMsAtHealth))} ms, idle RSS ${format(rssMb, 1)} MB ` +
      `(target ≤ ${RSS_TARGET_MB} MB: ${meets(rssMb, RSS_TARGET_MB)}), peak ${format(
        medianOf((run) => run.peakRssMb),
        1,
      )} MB`,
  )
  return lines
}

function meets(value: number | undefined, limit: number): string {
  if (value === undefined) return 'not measured'
  return value <= limit ? 'met' : 'missed'
}
