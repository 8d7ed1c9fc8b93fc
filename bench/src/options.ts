import { parseArgs } from 'node:util'

export const TARGET_NAMES = ['parley', 'ws', 'socketio'] as const
/** A server the bench starts: a `--targets` name, or `a2a`, the a2a scenario's own baseline (not a target). */
export type TargetName = (typeof TARGET_NAMES)[number] | 'a2a'

export const SCENARIO_NAMES = [
  'start',
  'fanout',
  'durable',
  'crossnode',
  'request',
  'mcp',
  'connections',
  'storm',
  'a2a',
  'audit-verify',
] as const
export type ScenarioName = (typeof SCENARIO_NAMES)[number]
/**
 * What runs without `--scenario` (and in `--quick`, CI's smoke run): all but a2a, which takes ~30 s more even
 * quick (two servers started per run, HTTP clients); name it to run it.
 */
const DEFAULT_SCENARIOS: ScenarioName[] = SCENARIO_NAMES.filter(
  (name) => name !== 'a2a' && name !== 'audit-verify',
)

/** The server the durable scenario creates its throw-away databases on, unless --database-url names one. */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres'
/** The Redis the cross-node scenario's nodes share, unless REDIS_URL names another. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

/** Store backends two gateway nodes can share (`memory` is per process). */
export const CROSS_NODE_STORES = ['postgres', 'redis'] as const
export type CrossNodeStore = (typeof CROSS_NODE_STORES)[number]
export const REQUEST_AUDITS = ['on', 'off', 'both'] as const
export type RequestAudit = (typeof REQUEST_AUDITS)[number]

export interface BenchOptions {
  /** Scenarios to run, in this order. */
  scenarios: ScenarioName[]
  /** Fan-out scenario: subscriber connections. */
  subscribers: number
  /** Fan-out scenario: the paced runs' rate as a share of Parley's median saturating rate (0.5: half). */
  pacedShare: number
  durationMs: number
  warmupMs: number
  runs: number
  /** Fan-out: publications that may be in flight (not yet acknowledged or not yet received by every subscriber). */
  window: number
  /** Durable scenario: subscriber connections. */
  durableSubscribers: number
  /** Durable scenario: publications in flight, as `window`. */
  durableWindow: number
  /** Cross-node scenario: subscriber connections, all on node B (the publisher is on node A). */
  crossnodeSubscribers: number
  /** Cross-node scenario: the store backend both gateways share. */
  crossnodeStore: CrossNodeStore
  /** Request scenario: requests in flight at most, over all caller connections. */
  requestWindow: number
  /** Request scenario: caller connections (one process). */
  requestCallers: number
  /** Request scenario: agent connections answering the requests. */
  requestAgents: number
  /** Request scenario: Parley's audit on, off, or both (two Parley rows, audit on and off). */
  requestAudit: RequestAudit
  /** A2A scenario: `SendMessage` calls in flight at most, over all clients. */
  a2aWindow: number
  /** A2A scenario: SDK clients (one process). */
  a2aClients: number
  /** Connections scenario: idle connections held by one server. */
  connections: number
  /** Connections scenario: channels they subscribe to (connection i to channel i mod n). */
  connectionChannels: number
  /** Connections scenario: the idle window over which the server's CPU is measured. */
  idleMs: number
  /** Storm scenario: subscribers, spread over 10 channels. */
  stormSubscribers: number
  /** Storm scenario: publications per second per channel at most. */
  stormRate: number
  /** Storm scenario: the niceness of its load processes (0: the same priority as the server and the proxies). */
  stormNice: number
  /** Audit-verify scenario: chained audit rows written, then verified. */
  auditRows: number
  /** Audit-verify scenario: where `parley audit verify` writes its `--cpu-prof` profile (none when absent). */
  cpuProfDir: string | undefined
  /** Processes that share the subscriber connections (request scenario: the agent connections). */
  workers: number
  payloadBytes: number
  targets: (typeof TARGET_NAMES)[number][]
  /** Subscriber connections opened at the same time while setting up. */
  connectConcurrency: number
  /** Explicit gateway entry point (a `cli.ts` or built `cli.js`); resolved from `@parley/gateway` when absent. */
  gatewayCli: string | undefined
  /**
   * As given, since each scenario has its own default: the fan-out, request and connections gateway's database (default: the embedded
   * one in the run's data folder) and the server on which the durable scenario creates a throw-away database per run
   * (`DEFAULT_POSTGRES_URL`).
   */
  databaseUrl: string | undefined
  /** Fail instead of skipping the postgres row of the durable scenario when the server does not answer. */
  requirePostgres: boolean
  /** The Redis the cross-node scenario's nodes share (`REDIS_URL`, else `redis://127.0.0.1:6379`). */
  redisUrl: string
  /** Fail instead of skipping the cross-node scenario when that Redis does not answer. */
  requireRedis: boolean
  outDir: string | undefined
  quick: boolean
}

export const USAGE = `Usage: pnpm bench [options]

Benchmarks Parley against a plain \`ws\` broadcast server and a Socket.IO server, each in its own process:
- fanout:  one channel, N subscribers, one publisher at full speed;
- durable: acknowledged publishes to a few subscribers, Parley with --store-backend memory and postgres;
- crossnode: two server nodes sharing one Redis, the publisher on node A, N subscribers on node B;
- request: callers keep requests in flight to a few agents that answer at once (Parley's request /
  respond against a ws relay and a Socket.IO relay with acks);
- a2a: @a2a-js/sdk clients keep SendMessage calls in flight through Parley's A2A face to a Parley agent,
  against the same clients calling an @a2a-js/sdk server directly;
- connections: N idle connections on one server, each subscribed to one of C channels, the default
  heartbeats on: RSS per connection, idle CPU, then one publication per channel that all must receive.
- start: the default gateway as \`pnpm start\` runs it (built dist/cli.js, new data folder), spawn to
  its first /health 200, and its RSS after a few idle seconds.

Options:
  --scenario <list>    comma-separated subset of start,fanout,durable,crossnode,request,mcp,connections,storm,a2a,
                       audit-verify (default all but a2a and audit-verify)
  --subscribers <n>    fan-out subscriber connections (default 1000; --quick 100)
  --paced-share <x>    fanout: the paced runs' rate as a share of Parley's saturating rate (default 0.5)
  --window <n>         fan-out and cross-node publications in flight at most (default 8)
  --durable-subscribers <n>  durable subscriber connections (default 10)
  --durable-window <n> durable publications in flight at most (default 64)
  --crossnode-subscribers <n>  cross-node subscriber connections, on node B (default 500; --quick 50)
  --crossnode-store <backend>  cross-node: Parley's --store-backend, redis or postgres (default redis)
  --request-window <n> request: requests in flight at most, over all callers (default 64)
  --request-callers <n>  request: caller connections, in one process (default 4)
  --request-agents <n> request: agent connections answering the requests (default 2)
  --audit <on|off|both>  request: Parley's audit; both adds a row with the audit off beside each Parley row (default both)
  --a2a-window <n>     a2a: SendMessage calls in flight at most, over all clients (default 16)
  --a2a-clients <n>    a2a: @a2a-js/sdk clients, in one process (default 4)
  --connections <n>    connections: idle connections on one server (default 19000; --quick 2000)
  --connection-channels <n>  connections: channels they subscribe to (default 100; --quick 20)
  --idle <s>           connections: idle seconds measured, default heartbeats on (default 30; --quick 3)
  --storm-subscribers <n>  storm: subscribers on 10 channels (default 10000; --quick 1000)
  --storm-rate <n>     storm: publications per second per channel at most (default 2)
  --storm-nice <n>     storm: niceness of its load processes, 0-19 (default 0: as the server and proxies)
  --audit-rows <n>     audit-verify: chained audit rows written, then verified (default 1000000; --quick 100000)
  --cpu-prof <dir>     audit-verify: profile \`parley audit verify\` (node --cpu-prof) into this folder
  --duration <s>       measured seconds per run (default 10; --quick 2)
  --warmup <s>         unmeasured seconds before each measurement (default 2; --quick 0.5)
  --runs <n>           runs per target, interleaved; medians are reported (default 3; --quick 1)
  --workers <n>        subscriber processes; request: agent processes (default 2)
  --payload <bytes>    approximate JSON size of each publication's or request's data (default 100)
  --targets <list>     comma-separated subset of parley,ws,socketio (default all)
  --connect-concurrency <n>  connections opened at once during set-up (default 50)
  --gateway-cli <path> gateway CLI to spawn (default: @parley/gateway's src/cli.ts, or dist/cli.js)
  --database-url <url> fanout, request, connections: Parley's database instead of the default
                       embedded one in the run's data folder: memory:// (PGlite in the
                       gateway's thread) or postgres://… (the audit rows are written there);
                       durable: the server on which each Parley run gets a throw-away
                       parley_bench_<random> database (default ${DEFAULT_POSTGRES_URL});
                       crossnode: the server on which each Parley run gets one such database,
                       shared by its two nodes
  --require-postgres   fail when that server does not answer (default: skip the postgres row
                       of durable and the parley row of crossnode)
  --require-redis      crossnode: fail when the Redis at REDIS_URL (default ${DEFAULT_REDIS_URL})
                       does not answer (default: skip the scenario)
  --out <dir>          where the JSON results go (default bench/results)
  --quick              smoke settings: 100 fan-out and 50 cross-node subscribers, 2,000 idle
                       connections on 20 channels, 2 s (idle: 3 s), 1 run
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
      'paced-share': { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      scenario: { type: 'string' },
      runs: { type: 'string' },
      window: { type: 'string' },
      'durable-subscribers': { type: 'string' },
      'durable-window': { type: 'string' },
      workers: { type: 'string' },
      payload: { type: 'string' },
      targets: { type: 'string' },
      'connect-concurrency': { type: 'string' },
      'gateway-cli': { type: 'string' },
      'database-url': { type: 'string' },
      'crossnode-subscribers': { type: 'string' },
      'crossnode-store': { type: 'string' },
      'request-window': { type: 'string' },
      'request-callers': { type: 'string' },
      'request-agents': { type: 'string' },
      audit: { type: 'string' },
      'a2a-window': { type: 'string' },
      'a2a-clients': { type: 'string' },
      connections: { type: 'string' },
      'connection-channels': { type: 'string' },
      idle: { type: 'string' },
      'storm-subscribers': { type: 'string' },
      'storm-rate': { type: 'string' },
      'storm-nice': { type: 'string' },
      'audit-rows': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'require-postgres': { type: 'boolean', default: false },
      'require-redis': { type: 'boolean', default: false },
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
    pacedShare: share('--paced-share', values['paced-share'], 0.5),
    scenarios: nameList('--scenario', SCENARIO_NAMES, values.scenario, DEFAULT_SCENARIOS),
    subscribers,
    durationMs: seconds('--duration', values.duration, quick ? 2 : 10, 0.5, 600) * 1000,
    warmupMs: seconds('--warmup', values.warmup, quick ? 0.5 : 2, 0, 120) * 1000,
    runs: integer('--runs', values.runs, quick ? 1 : 3, 1, 50),
    window: integer('--window', values.window, 8, 1, 10_000),
    durableSubscribers: integer('--durable-subscribers', values['durable-subscribers'], 10, 1, 20_000),
    durableWindow: integer('--durable-window', values['durable-window'], 64, 1, 10_000),
    crossnodeSubscribers: integer(
      '--crossnode-subscribers',
      values['crossnode-subscribers'],
      quick ? 50 : 500,
      1,
      20_000,
    ),
    requestWindow: integer('--request-window', values['request-window'], 64, 1, 10_000),
    requestCallers: integer('--request-callers', values['request-callers'], 4, 1, 1000),
    requestAgents: integer('--request-agents', values['request-agents'], 2, 1, 1000),
    requestAudit: requestAudit(values.audit),
    a2aWindow: integer('--a2a-window', values['a2a-window'], 16, 1, 10_000),
    a2aClients: integer('--a2a-clients', values['a2a-clients'], 4, 1, 1000),
    connections: integer('--connections', values.connections, quick ? 2_000 : 19_000, 1, 60_000),
    connectionChannels: integer(
      '--connection-channels',
      values['connection-channels'],
      quick ? 20 : 100,
      1,
      10_000,
    ),
    idleMs: seconds('--idle', values.idle, quick ? 3 : 30, 1, 600) * 1000,
    stormSubscribers: integer(
      '--storm-subscribers',
      values['storm-subscribers'],
      quick ? 1000 : 10_000,
      10,
      20_000,
    ),
    stormRate: seconds('--storm-rate', values['storm-rate'], 2, 0.1, 1000),
    stormNice: integer('--storm-nice', values['storm-nice'], 0, 0, 19),
    auditRows: integer('--audit-rows', values['audit-rows'], quick ? 100_000 : 1_000_000, 1, 50_000_000),
    cpuProfDir: values['cpu-prof'],
    workers,
    payloadBytes: integer('--payload', values.payload, 100, 40, 1_000_000),
    targets: nameList('--targets', TARGET_NAMES, values.targets),
    connectConcurrency: integer('--connect-concurrency', values['connect-concurrency'], 50, 1, 5000),
    gatewayCli: values['gateway-cli'],
    databaseUrl: databaseUrl(values['database-url']),
    crossnodeStore: crossNodeStore(values['crossnode-store']),
    requirePostgres: values['require-postgres'] === true,
    redisUrl: redisUrl(process.env.REDIS_URL),
    requireRedis: values['require-redis'] === true,
    outDir: values.out,
    quick,
  }
}

function databaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  if (!/^(memory:\/\/|postgres(ql)?:\/\/)/.test(raw)) {
    throw new UsageError('--database-url must be memory:// or a postgres:// URL')
  }
  return raw
}

function crossNodeStore(raw: string | undefined): CrossNodeStore {
  if (raw === undefined) return 'redis'
  const store = CROSS_NODE_STORES.find((name) => name === raw)
  if (store === undefined)
    throw new UsageError(`--crossnode-store must be redis or postgres, got ${JSON.stringify(raw)}`)
  return store
}

function requestAudit(raw: string | undefined): RequestAudit {
  if (raw === undefined) return 'both'
  const audit = REQUEST_AUDITS.find((name) => name === raw)
  if (audit === undefined) throw new UsageError(`--audit must be on, off or both, got ${JSON.stringify(raw)}`)
  return audit
}

function redisUrl(raw: string | undefined): string {
  if (raw === undefined || raw === '') return DEFAULT_REDIS_URL
  if (!/^rediss?:\/\//.test(raw)) throw new UsageError('REDIS_URL must start with redis:// or rediss://')
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

function share(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new UsageError(`${flag} must be a number above 0 and at most 1, got ${JSON.stringify(raw)}`)
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

/** A comma-separated subset of `names`, returned in their canonical order. */
function nameList<Name extends string>(
  flag: string,
  names: readonly Name[],
  raw: string | undefined,
  fallback: readonly Name[] = names,
): Name[] {
  if (raw === undefined) return [...fallback]
  const given = raw
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.length > 0)
  const unknown = given.filter((name) => !(names as readonly string[]).includes(name))
  if (unknown.length > 0 || given.length === 0) {
    throw new UsageError(
      `${flag} takes a comma-separated subset of ${names.join(',')}, got ${JSON.stringify(raw)}`,
    )
  }
  // Keep the canonical order so runs interleave the same way whatever order was typed.
  return names.filter((name) => given.includes(name))
}
