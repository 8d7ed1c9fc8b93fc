import { parseArgs } from 'node:util'

export const TARGET_NAMES = ['parley', 'ws', 'socketio'] as const
export type TargetName = (typeof TARGET_NAMES)[number]

export interface BenchOptions {
  subscribers: number
  durationMs: number
  warmupMs: number
  runs: number
  /** Publications that may be in flight (not yet acknowledged or not yet received by every subscriber). */
  window: number
  /** Processes that share the subscriber connections. */
  workers: number
  payloadBytes: number
  targets: TargetName[]
  /** Subscriber connections opened at the same time while setting up. */
  connectConcurrency: number
  /** Explicit gateway entry point (a `cli.ts` or built `cli.js`); resolved from `@parley/gateway` when absent. */
  gatewayCli: string | undefined
  /** Database of the Parley gateway: `memory://` (embedded PGlite, in process) or a `postgres://` URL. */
  databaseUrl: string
  outDir: string | undefined
  quick: boolean
}

export const USAGE = `Usage: pnpm bench [options]

Fan-out benchmark: one channel, N subscribers, one publisher at full speed, against Parley,
a plain \`ws\` broadcast server and a Socket.IO server, each in its own process.

Options:
  --subscribers <n>    subscriber connections (default 1000; --quick 100)
  --duration <s>       measured seconds per run (default 10; --quick 2)
  --warmup <s>         unmeasured seconds before each measurement (default 2; --quick 0.5)
  --runs <n>           runs per target, interleaved; medians are reported (default 3; --quick 1)
  --window <n>         publications in flight at most (default 8)
  --workers <n>        subscriber processes (default 2)
  --payload <bytes>    approximate JSON size of each publication's data (default 100)
  --targets <list>     comma-separated subset of parley,ws,socketio (default all)
  --connect-concurrency <n>  connections opened at once during set-up (default 50)
  --gateway-cli <path> gateway CLI to spawn (default: @parley/gateway's src/cli.ts, or dist/cli.js)
  --database-url <url> Parley's database: memory:// (embedded PGlite, the default) or postgres://…
                       (the audit rows of the run are written there)
  --out <dir>          where the JSON results go (default bench/results)
  --quick              smoke settings: 100 subscribers, 2 s, 1 run
  -h, --help           show this help
`

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** Parses argv into options; `--quick` only changes defaults, so explicit flags still win. */
export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      subscribers: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      runs: { type: 'string' },
      window: { type: 'string' },
      workers: { type: 'string' },
      payload: { type: 'string' },
      targets: { type: 'string' },
      'connect-concurrency': { type: 'string' },
      'gateway-cli': { type: 'string' },
      'database-url': { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return 'help'
  const quick = values.quick === true
  const subscribers = integer('--subscribers', values.subscribers, quick ? 100 : 1000, 1, 20_000)
  const workers = integer('--workers', values.workers, 2, 1, 16)
  return {
    subscribers,
    durationMs: seconds('--duration', values.duration, quick ? 2 : 10, 0.5, 600) * 1000,
    warmupMs: seconds('--warmup', values.warmup, quick ? 0.5 : 2, 0, 120) * 1000,
    runs: integer('--runs', values.runs, quick ? 1 : 3, 1, 50),
    window: integer('--window', values.window, 8, 1, 10_000),
    workers: Math.min(workers, subscribers),
    payloadBytes: integer('--payload', values.payload, 100, 40, 1_000_000),
    targets: targetList(values.targets),
    connectConcurrency: integer('--connect-concurrency', values['connect-concurrency'], 50, 1, 5000),
    gatewayCli: values['gateway-cli'],
    databaseUrl: databaseUrl(values['database-url']),
    outDir: values.out,
    quick,
  }
}

function databaseUrl(raw: string | undefined): string {
  if (raw === undefined) return 'memory://'
  if (!/^(memory:\/\/|postgres(ql)?:\/\/)/.test(raw)) {
    throw new UsageError('--database-url must be memory:// or a postgres:// URL')
  }
  return raw
}

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}

function seconds(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(
      `${flag} must be a number of seconds from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    )
  }
  return value
}

function targetList(raw: string | undefined): TargetName[] {
  if (raw === undefined) return [...TARGET_NAMES]
  const names = raw
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.length > 0)
  const unknown = names.filter((name) => !(TARGET_NAMES as readonly string[]).includes(name))
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(
      `--targets takes a comma-separated subset of ${TARGET_NAMES.join(',')}, got ${JSON.stringify(raw)}`,
    )
  }
  // Keep the canonical order so runs interleave the same way whatever order was typed.
  return TARGET_NAMES.filter((name) => names.includes(name))
}
