/**
 * `--scenario audit-verify`: how fast `parley audit verify` walks a long audit chain. A fresh embedded database
 * (the default store, PGlite in a data folder) is filled with N chained rows through the gateway's own audit
 * writer; then the chain is verified R times in this process (`verifyAuditChain` over the Postgres chain
 * reader: the walk alone) and, when the gateway's built CLI is there, once as `parley audit verify --data-dir`
 * (the command an operator runs, opening the database included). Target: 100,000 rows/s or more.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import {
  createPostgresAuditChain,
  createPostgresAuditLog,
  openDatabase,
  type ParleyDatabase,
  verifyAuditChain,
} from '@parley/stores'

export const AUDIT_VERIFY_TARGET_ROWS_PER_SECOND = 100_000
/** Rows recorded before each flush while filling: bounds the writer's buffer. */
const FILL_CHUNK = 100_000

export interface AuditVerifyRun {
  run: number
  rows: number
  ms: number
  rowsPerSecond: number
  /** CPU time of this process over the walk, both threads (the event loop and the embedded database's). */
  cpuMs: number
  /** Rows per second of CPU: what the walk reaches when it has the cores to itself (the wall figure stretches under load). */
  rowsPerCpuSecond: number
}

export interface AuditVerifyMeasurement {
  rows: number
  fillMs: number
  fillRowsPerSecond: number
  /** In-process walks of the whole chain. */
  runs: AuditVerifyRun[]
  /** `parley audit verify` as a command, wall time from spawn to exit (undefined without a built CLI). */
  cli: { ms: number; rowsPerSecond: number; output: string } | undefined
}

/** One row as a busy agent gateway records it: a request or its reply, with ids, trace and latency. */
function benchRow(index: number, startMs: number) {
  const request = index % 2 === 0
  const pair = Math.floor(index / 2)
  return {
    kind: request ? ('request' as const) : ('reply' as const),
    outcome: index % 97 === 0 ? ('error' as const) : ('ok' as const),
    principal: request ? `tok_caller${pair % 50}` : `tok_agent${pair % 7}`,
    clientId: request ? `caller-${pair % 50}` : `agent-${pair % 7}-instance`,
    connectionId: `conn_${(pair % 400).toString(16).padStart(8, '0')}`,
    target: request ? `agent-${pair % 7}` : `caller-${pair % 50}`,
    size: request ? 120 + (pair % 900) : null,
    traceId: (pair * 2654435761).toString(16).padStart(32, '0').slice(-32),
    correlationId: `req_${pair.toString(16).padStart(32, '0')}`,
    latencyMs: request ? null : pair % 250,
    detail: index % 97 === 0 ? 'agent_error' : null,
    time: new Date(startMs + index),
  }
}

async function fill(database: ParleyDatabase, rows: number): Promise<number> {
  const log = createPostgresAuditLog(database, { batchSize: 5_000, maxBuffer: FILL_CHUNK * 2 })
  const started = performance.now()
  const startMs = Date.now() - rows
  for (let index = 0; index < rows; index += 1) {
    log.record(benchRow(index, startMs))
    if ((index + 1) % FILL_CHUNK === 0) await log.flush()
  }
  await log.close()
  if (log.dropped > 0) throw new Error(`the audit writer dropped ${log.dropped} rows while filling`)
  return performance.now() - started
}

/** The built CLI of the gateway (`dist/cli.js`), if the gateway was built. */
function builtCli(): string | undefined {
  const gatewayDir = dirname(createRequire(import.meta.url).resolve('@parley/gateway/package.json'))
  const path = join(gatewayDir, 'dist', 'cli.js')
  return existsSync(path) ? path : undefined
}

async function runCli(cli: string, dataDir: string, cpuProfDir: string | undefined) {
  const started = performance.now()
  const args = [
    ...(cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`]),
    cli,
    'audit',
    'verify',
    '--data-dir',
    dataDir,
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`parley audit verify exited with ${code}: ${output.trim()}`)
  return { ms: performance.now() - started, output: output.trim() }
}

export async function measureAuditVerify(options: {
  rows: number
  runs: number
  /** Where `--cpu-prof` writes the CLI's profile; no profile when absent. */
  cpuProfDir?: string
}): Promise<AuditVerifyMeasurement> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-audit-'))
  try {
    const database = await openDatabase({ dataDir: join(dataDir, 'data') })
    const fillMs = await fill(database, options.rows)
    const runs: AuditVerifyRun[] = []
    for (let run = 1; run <= options.runs; run += 1) {
      const started = performance.now()
      const cpuBefore = process.cpuUsage()
      const report = await verifyAuditChain(createPostgresAuditChain(database))
      const ms = performance.now() - started
      const cpu = process.cpuUsage(cpuBefore)
      const cpuMs = (cpu.user + cpu.system) / 1000
      if (!report.ok) throw new Error(`the bench chain did not verify: ${report.problem?.reason}`)
      runs.push({
        run,
        rows: report.rows,
        ms,
        rowsPerSecond: (report.rows / ms) * 1000,
        cpuMs,
        rowsPerCpuSecond: (report.rows / cpuMs) * 1000,
      })
    }
    await database.close()
    const cli = builtCli()
    let cliResult: AuditVerifyMeasurement['cli']
    if (cli !== undefined) {
      const { ms, output } = await runCli(cli, dataDir, options.cpuProfDir)
      cliResult = { ms, rowsPerSecond: (options.rows / ms) * 1000, output }
    }
    return {
      rows: options.rows,
      fillMs,
      fillRowsPerSecond: (options.rows / fillMs) * 1000,
      runs,
      cli: cliResult,
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}

const format = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

export function renderAuditVerify(measurement: AuditVerifyMeasurement): string[] {
  const lines = [
    `Audit verify (${format(measurement.rows)} chained rows in a new embedded database; filled through the audit ` +
      `writer in ${format(measurement.fillMs / 1000, 1)} s, ${format(measurement.fillRowsPerSecond)} rows/s)`,
  ]
  for (const run of measurement.runs) {
    lines.push(
      `[${run.run}/${measurement.runs.length}] verifyAuditChain: ${format(run.rows)} rows in ${format(run.ms / 1000, 2)} s, ` +
        `${format(run.rowsPerSecond)} rows/s; ${format(run.cpuMs / 1000, 2)} s CPU (both threads), ` +
        `${format(run.rowsPerCpuSecond)} rows per CPU second`,
    )
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0
  const wall = median(measurement.runs.map((run) => run.rowsPerSecond))
  const perCpu = median(measurement.runs.map((run) => run.rowsPerCpuSecond))
  lines.push(
    `Median: ${format(wall)} rows/s (target ≥ ${format(AUDIT_VERIFY_TARGET_ROWS_PER_SECOND)} rows/s: ${
      wall >= AUDIT_VERIFY_TARGET_ROWS_PER_SECOND ? 'met' : 'NOT met'
    }), ${format(perCpu)} rows per CPU second; load average ${loadavg()[0]?.toFixed(1)}`,
  )
  if (measurement.cli === undefined) {
    lines.push('parley audit verify (CLI): skipped, the gateway is not built (pnpm build)')
  } else {
    lines.push(
      `parley audit verify --data-dir (CLI, opening the database included): ${format(measurement.cli.ms / 1000, 2)} s, ` +
        `${format(measurement.cli.rowsPerSecond)} rows/s`,
    )
  }
  return lines
}
