/**
 * `pnpm bench`: the fan-out scenario against each target, R runs interleaved, medians in a table and
 * every raw number in bench/results/<timestamp>.json. See ../README.md.
 */
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BenchOptions, parseOptions, USAGE, UsageError } from './options.js'
import { killChildrenAndCleanUp } from './processes.js'
import {
  currentCommit,
  machineInfo,
  type ResultsFile,
  renderTable,
  summarise,
  TARGET_LABELS,
  writeResults,
} from './report.js'
import { failedRun, type RunResult, runScenario } from './scenario.js'
import { resolveGatewayEntry } from './servers.js'

/** Hides a password in a database URL before it is printed. */
function redactDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url))

function out(text: string): void {
  process.stdout.write(`${text}\n`)
}

// Children die with us, however we exit.
process.on('exit', killChildrenAndCleanUp)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping servers and load workers\n`)
    killChildrenAndCleanUp()
    process.exit(130)
  })
}

async function main(options: BenchOptions): Promise<void> {
  const gateway = options.targets.includes('parley') ? resolveGatewayEntry(options.gatewayCli) : undefined
  const startedAt = new Date().toISOString()
  const loadAtStart = loadavg()
  // Whatever goes wrong, the whole bench ends in bounded time.
  const perRunBudgetMs = options.warmupMs + options.durationMs + 240_000 + options.subscribers * 60
  const hardDeadline = setTimeout(
    () => {
      process.stderr.write('bench: overall time limit reached, stopping\n')
      killChildrenAndCleanUp()
      process.exit(1)
    },
    perRunBudgetMs * options.runs * options.targets.length,
  )
  hardDeadline.unref()

  out(
    `Fan-out: 1 channel, ${options.subscribers} subscribers in ${options.workers} processes, 1 publisher ` +
      `(window ${options.window}, ~${options.payloadBytes} B), ${options.warmupMs / 1000} s warm-up + ` +
      `${options.durationMs / 1000} s measured, ${options.runs} run(s) of ${options.targets.map((t) => TARGET_LABELS[t]).join(', ')}`,
  )
  if (gateway) out(`Parley: CLI ${gateway.path}, database ${redactDatabaseUrl(options.databaseUrl)}`)
  const results: RunResult[] = []
  for (let run = 1; run <= options.runs; run++) {
    for (const target of options.targets) {
      let result: RunResult
      try {
        result = await runScenario(target, run, options)
      } catch (error) {
        result = failedRun(target, run, error)
      }
      results.push(result)
      out(describeRun(result, options.runs))
    }
  }

  const medians = summarise(options.targets, results)
  out('')
  out(`Medians over ${options.runs} run(s):`)
  out(renderTable(medians))
  const file: ResultsFile = {
    startedAt,
    finishedAt: new Date().toISOString(),
    options,
    machine: machineInfo(loadAtStart),
    commit: currentCommit(BENCH_DIR),
    gateway,
    medians,
    runs: results,
  }
  const path = writeResults(options.outDir ? resolve(options.outDir) : resolve(BENCH_DIR, 'results'), file)
  out('')
  out(`Results: ${path}`)
  if (results.every((result) => !result.ok)) process.exitCode = 1
}

function describeRun(result: RunResult, runs: number): string {
  const label = `[${result.run}/${runs}] ${TARGET_LABELS[result.target].padEnd(9)}`
  if (!result.ok) return `${label} FAILED: ${result.error}`
  const lost = result.expectedDeliveries - result.measuredDeliveries
  const notes = [
    lost > 0 ? `${lost} deliveries missing` : '',
    Object.keys(result.closedByCode).length > 0 ? `closed: ${JSON.stringify(result.closedByCode)}` : '',
    Object.keys(result.errorsByCode).length > 0 ? `errors: ${JSON.stringify(result.errorsByCode)}` : '',
    result.drained ? '' : 'did not drain',
  ].filter((note) => note.length > 0)
  return (
    `${label} ${Math.round(result.deliveriesPerSecond).toLocaleString('en-US')} deliveries/s, ` +
    `p50 ${result.p50Ms?.toFixed(2)} ms, p99 ${result.p99Ms?.toFixed(2)} ms, ` +
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
    killChildrenAndCleanUp()
    process.exitCode = 1
  }
}
