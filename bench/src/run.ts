/**
 * `pnpm bench`: each scenario (fan-out, durable, cross-node, request) against each target, R runs interleaved, medians in a
 * table per scenario and every raw number in bench/results/<timestamp>.json. See ../README.md.
 */
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type AuditVerifyMeasurement,
  measureAuditVerify,
  renderAuditVerify,
} from './audit-verify-scenario.js'
import { dropLiveDatabases } from './databases.js'
import { type BenchOptions, parseOptions, USAGE, UsageError } from './options.js'
import { planScenario } from './plans.js'
import { killChildrenAndCleanUp } from './processes.js'
import { removeLivePrefixes } from './redis.js'
import {
  currentCommit,
  machineInfo,
  type ResultsFile,
  type ScenarioResults,
  summarise,
  writeResults,
} from './report.js'
import { failedRun, type LoadPlan, loadConnections, type RunResult } from './run-plan.js'
import { runScenario } from './scenario.js'
import type { GatewayEntry, ScenarioPlan } from './scenario-plan.js'
import { resolveGatewayEntry } from './servers.js'
import { measureDefaultStart, renderStartMeasurement, type StartMeasurement } from './start-measurement.js'
import { describeStormRun } from './storm-scenario.js'

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url))
/** How long an interrupted bench spends dropping its throw-away databases before it exits anyway. */
const CLEANUP_TIMEOUT_MS = 5000

function out(text: string): void {
  process.stdout.write(`${text}\n`)
}

/** Kills the children, drops the throw-away databases and Redis keys (bounded), exits. */
async function abort(exitCode: number): Promise<never> {
  killChildrenAndCleanUp()
  await Promise.race([
    Promise.all([dropLiveDatabases(), removeLivePrefixes()]),
    new Promise((resolve) => setTimeout(resolve, CLEANUP_TIMEOUT_MS)),
  ])
  process.exit(exitCode)
}

// Children die with us, however we exit.
process.on('exit', killChildrenAndCleanUp)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping servers and load workers\n`)
    void abort(130)
  })
}

/** Whatever goes wrong, one run ends in bounded time. */
function runBudgetMs(load: LoadPlan): number {
  return load.warmupMs + load.durationMs + 240_000 + loadConnections(load) * 60
}

async function main(options: BenchOptions): Promise<void> {
  const gateway: GatewayEntry = options.targets.includes('parley')
    ? resolveGatewayEntry(options.gatewayCli)
    : undefined
  const startedAt = new Date().toISOString()
  const loadAtStart = loadavg()
  const plans: ScenarioPlan[] = []
  for (const name of options.scenarios) {
    if (name !== 'start' && name !== 'audit-verify') plans.push(await planScenario(name, options, gateway))
  }

  const budgetMs = plans.reduce(
    (sum, plan) =>
      sum +
      runBudgetMs(plan.load) * options.runs * plan.contenders.length * (plan.pacedShareOfParley ? 2 : 1),
    0,
  )
  if (budgetMs > 0) {
    const hardDeadline = setTimeout(() => {
      process.stderr.write('bench: overall time limit reached, stopping\n')
      void abort(1)
    }, budgetMs)
    hardDeadline.unref()
  }

  let start: StartMeasurement | undefined
  if (gateway !== undefined && options.scenarios.includes('start')) {
    start = await measureDefaultStart(options.runs, options.quick ? 3_000 : 5_000)
    for (const line of renderStartMeasurement(start)) out(line)
  }
  let auditVerify: AuditVerifyMeasurement | undefined
  if (options.scenarios.includes('audit-verify')) {
    if (start !== undefined) out('')
    auditVerify = await measureAuditVerify({
      rows: options.auditRows,
      runs: options.runs,
      ...(options.cpuProfDir === undefined ? {} : { cpuProfDir: resolve(options.cpuProfDir) }),
    })
    for (const line of renderAuditVerify(auditVerify)) out(line)
  }
  const scenarios: ScenarioResults[] = []
  const problems: string[] = []
  for (const plan of plans) {
    if (start !== undefined && scenarios.length === 0) out('')
    if (scenarios.length > 0) out('')
    const results = await runPlan(plan, options.runs)
    scenarios.push(results)
    problems.push(...(plan.check?.(results.runs) ?? []))
  }
  const file: ResultsFile & { start?: StartMeasurement; auditVerify?: AuditVerifyMeasurement } = {
    startedAt,
    finishedAt: new Date().toISOString(),
    options,
    machine: machineInfo(loadAtStart),
    commit: currentCommit(BENCH_DIR),
    gateway,
    ...(start === undefined ? {} : { start }),
    ...(auditVerify === undefined ? {} : { auditVerify }),
    scenarios,
  }
  const path = writeResults(options.outDir ? resolve(options.outDir) : resolve(BENCH_DIR, 'results'), file)
  out('')
  out(`Results: ${path}`)
  const ran = scenarios.flatMap((scenario) => scenario.runs)
  // Skipped rows (no Redis, no PostgreSQL) are not failures; runs that all failed are.
  if (ran.length > 0 && ran.every((result) => !result.ok)) process.exitCode = 1
  if (problems.length > 0) {
    process.stderr.write(`\nbench: FAILED\n${problems.map((problem) => `- ${problem}`).join('\n')}\n`)
    process.exitCode = 1
  }
}

/**
 * The plan's runs, interleaved (`a, b, c, a, b, c, …`), then its table of medians; then, when the plan asks
 * for it, the same rows paced at a share of Parley's median rate, with their own table.
 */
async function runPlan(plan: ScenarioPlan, runs: number): Promise<ScenarioResults> {
  for (const line of plan.description) out(line)
  const { results, medians } = await runRows(plan, runs)
  const scenario: ScenarioResults = {
    name: plan.name,
    load: plan.load,
    database: plan.database,
    medians,
    runs: results,
  }
  const parleyRate = medians.find((row) => row.target === 'parley')?.publishesPerSecond
  const { load } = plan
  if (
    plan.pacedShareOfParley !== undefined &&
    load.kind === 'publish' &&
    parleyRate !== undefined &&
    parleyRate > 0
  ) {
    const ratePerSecond = Math.max(1, Math.round(parleyRate * plan.pacedShareOfParley))
    out('')
    out(
      `Paced: every row again at ${ratePerSecond.toLocaleString('en-US')} publishes/s ` +
        `(${plan.pacedShareOfParley}x Parley's median of ${Math.round(parleyRate).toLocaleString('en-US')}), same load otherwise`,
    )
    const paced = await runRows({ ...plan, load: { ...load, ratePerSecond } }, runs)
    scenario.paced = { ratePerSecond, medians: paced.medians, runs: paced.results }
  }
  return scenario
}

async function runRows(
  plan: ScenarioPlan,
  runs: number,
): Promise<{ results: RunResult[]; medians: ReturnType<typeof summarise> }> {
  const results: RunResult[] = []
  for (let run = 1; run <= runs; run++) {
    for (const contender of plan.contenders) {
      let result: RunResult
      try {
        result = await (plan.runOne?.(contender, run) ?? runScenario(contender, run, plan.load))
      } catch (error) {
        result = failedRun(contender, run, error)
      }
      results.push(result)
      out(describeRun(result, runs, plan))
    }
  }
  const medians = summarise(plan.rows, results)
  out('')
  out(`Medians over ${runs} run(s):`)
  out(plan.render(medians))
  return { results, medians }
}

function describeRun(result: RunResult, runs: number, plan: ScenarioPlan): string {
  const label = `[${result.run}/${runs}] ${result.label.padEnd(17)}`
  if (!result.ok) return `${label} FAILED: ${result.error}`
  if (plan.describeRun) return plan.describeRun(result, label)
  if (result.storm) return `${label} ${describeStormRun(result.storm)}`
  const lost = result.expectedDeliveries - result.measuredDeliveries
  const isRequest = result.roundTripsPerSecond !== undefined
  const notes = [
    lost > 0 ? `${lost} ${isRequest ? 'replies' : 'deliveries'} missing` : '',
    Object.keys(result.closedByCode).length > 0 ? `closed: ${JSON.stringify(result.closedByCode)}` : '',
    Object.keys(result.errorsByCode).length > 0 ? `errors: ${JSON.stringify(result.errorsByCode)}` : '',
    result.drained ? '' : 'did not drain',
    (result.auditDropped ?? 0) > 0 ? `${result.auditDropped} audit rows dropped` : '',
  ].filter((note) => note.length > 0)
  if (isRequest) {
    const answers = result.agentAnswers ?? []
    return (
      `${label} ${Math.round(result.roundTripsPerSecond ?? 0).toLocaleString('en-US')} round trips/s, ` +
      `p50 ${result.p50Ms?.toFixed(2)} ms, p99 ${result.p99Ms?.toFixed(2)} ms, ` +
      `agents answered ${answers.map((count) => count.toLocaleString('en-US')).join(' / ')}, ` +
      `RSS ${result.serverRssMb?.toFixed(1) ?? 'n/a'} MB${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`
    )
  }
  return (
    `${label} ${Math.round(result.deliveriesPerSecond).toLocaleString('en-US')} deliveries/s, ` +
    `${Math.round(result.publishesPerSecond).toLocaleString('en-US')} publishes/s, ` +
    `p50 ${result.p50Ms?.toFixed(2)} ms, p99 ${result.p99Ms?.toFixed(2)} ms, ` +
    `ack p99 ${result.ackP99Ms?.toFixed(2)} ms, ` +
    `RSS ${result.serverRssMb?.toFixed(1) ?? 'n/a'} MB${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`
  )
}

let options: BenchOptions | 'help'
try {
  options = parseOptions(process.argv.slice(2))
} catch (error) {
  process.stderr.write(
    `${error instanceof UsageError || error instanceof TypeError ? error.message : String(error)}\n\n${USAGE}`,
  )
  process.exit(2)
}
if (options === 'help') {
  out(USAGE)
} else {
  try {
    await main(options)
  } catch (error) {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`)
    await abort(1)
  }
}
