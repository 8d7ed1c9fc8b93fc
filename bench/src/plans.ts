import { connectionsPlan } from './connections-scenario.js'
import {
  createRunDatabase,
  probeServer,
  type RunDatabase,
  redactDatabaseUrl,
  requireServer,
} from './databases.js'
import { mcpPlan } from './mcp-scenario.js'
import { type BenchOptions, DEFAULT_POSTGRES_URL, type RequestAudit, type ScenarioName } from './options.js'
import { probeRedis, redactRedisUrl } from './redis.js'
import {
  auditOffLabel,
  renderCrossNodeTable,
  renderDurableTable,
  renderFanoutTable,
  renderRequestTable,
  TARGET_LABELS,
  type TableRow,
} from './report.js'
import type { Contender, LoadTiming, PublishLoad, RequestLoad } from './run-plan.js'
import type { GatewayEntry, ScenarioPlan } from './scenario-plan.js'
import { EMBEDDED_DATABASE } from './servers.js'
import { stormPlan } from './storm-scenario.js'

/** How the bench names the default database in its output. */
const EMBEDDED_DESCRIPTION = 'embedded (data folder, worker thread)'

/** A database the bench neither creates nor drops. */
function existing(url: string): RunDatabase {
  return { url, drop: async () => {} }
}

export function planScenario(
  name: Exclude<ScenarioName, 'start' | 'audit-verify'>,
  options: BenchOptions,
  gateway: GatewayEntry,
): Promise<ScenarioPlan> {
  switch (name) {
    case 'fanout':
      return Promise.resolve(fanoutPlan(options, gateway))
    case 'durable':
      return durablePlan(options, gateway)
    case 'crossnode':
      return crossNodePlan(options, gateway)
    case 'request':
      return requestPlan(options, gateway)
    case 'mcp':
      return Promise.resolve(mcpPlan(options, gateway))
    case 'connections':
      return Promise.resolve(
        connectionsPlan(
          options,
          gateway,
          contendersOnDatabase(options, gateway, options.databaseUrl ?? EMBEDDED_DATABASE),
        ),
      )
    case 'storm':
      return stormPlan(options, gateway)
    case 'a2a':
      return Promise.resolve(a2aPlan(options, gateway))
  }
}

function describeLoad(
  title: string,
  load: PublishLoad,
  rows: string[],
  runs: number,
  where = { subscribers: '', publisher: '' },
): string {
  const workers = Math.min(load.workers, load.subscribers)
  return (
    `${title}: 1 channel, ${load.subscribers} subscribers in ${workers} processes${where.subscribers}, ` +
    `1 publisher${where.publisher} ` +
    `(window ${load.window}, ~${load.payloadBytes} B), ${load.warmupMs / 1000} s warm-up + ` +
    `${load.durationMs / 1000} s measured, ${runs} run(s) of ${rows.join(', ')}`
  )
}

/** The baselines named in `--targets` (every target but Parley), a row each. */
function baselineContenders(options: BenchOptions): Contender[] {
  return options.targets
    .filter((target) => target !== 'parley')
    .map((target) => ({ label: TARGET_LABELS[target], target }))
}

/** Every target once; Parley on `databaseUrl` as given, with the in-memory store backend. */
function contendersOnDatabase(
  options: BenchOptions,
  gateway: GatewayEntry,
  databaseUrl: string,
): Contender[] {
  return options.targets.map((target) => ({
    label: TARGET_LABELS[target],
    target,
    ...(target === 'parley' && gateway
      ? {
          gateway: {
            entry: gateway.path,
            storeBackend: 'memory' as const,
            database: async () => existing(databaseUrl),
          },
        }
      : {}),
  }))
}

function loadTiming(options: BenchOptions): LoadTiming {
  return {
    workers: options.workers,
    payloadBytes: options.payloadBytes,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    connectConcurrency: options.connectConcurrency,
  }
}

/** Many subscribers on one channel: Parley on its configured database, the in-memory store backend. */
function fanoutPlan(options: BenchOptions, gateway: GatewayEntry): ScenarioPlan {
  const load: PublishLoad = {
    kind: 'publish',
    ...loadTiming(options),
    channel: 'bench.fanout',
    subscribers: options.subscribers,
    window: options.window,
  }
  // The database as `pnpm start` opens it (the run's data folder, PGlite in its worker thread, so the audit rows
  // are written off the event loop that routes frames); `--database-url` as given (a server's audit rows land
  // there; `memory://` is PGlite in the gateway's own thread).
  const databaseUrl = options.databaseUrl ?? EMBEDDED_DATABASE
  const contenders = contendersOnDatabase(options, gateway, databaseUrl)
  const description = [
    describeLoad(
      'Fan-out',
      load,
      contenders.map((contender) => contender.label),
      options.runs,
    ),
  ]
  const where = databaseUrl === EMBEDDED_DATABASE ? EMBEDDED_DESCRIPTION : redactDatabaseUrl(databaseUrl)
  if (gateway) description.push(`Parley: CLI ${gateway.path}, database ${where}`)
  return {
    name: 'fanout',
    description,
    load,
    contenders,
    rows: contenders,
    database: gateway ? where : undefined,
    render: renderFanoutTable,
    pacedShareOfParley: options.pacedShare,
  }
}

/**
 * Acknowledged publishes to a few subscribers: Parley with the memory and the postgres store backends,
 * each run on a fresh database (so both rows pay the same audit writes and differ only by the backend),
 * beside the baselines, which acknowledge at once from memory.
 */
async function durablePlan(options: BenchOptions, gateway: GatewayEntry): Promise<ScenarioPlan> {
  const load: PublishLoad = {
    kind: 'publish',
    ...loadTiming(options),
    channel: 'bench.durable',
    subscribers: options.durableSubscribers,
    window: options.durableWindow,
  }
  const serverUrl = options.databaseUrl ?? DEFAULT_POSTGRES_URL
  const contenders: Contender[] = []
  const rows: TableRow[] = []
  let database: string | undefined
  if (gateway) {
    let freshDatabase = async () => existing('memory://')
    let postgresSkipped: string | undefined
    if (serverUrl === 'memory://') {
      database = 'memory:// (embedded PGlite in the gateway process)'
    } else {
      const probe = await probeServer(serverUrl)
      requireServer(probe, options.requirePostgres)
      if (probe.usable) {
        freshDatabase = () => createRunDatabase(serverUrl)
        database = `a throw-away parley_bench_* per run on ${redactDatabaseUrl(serverUrl)} (${probe.description})`
      } else {
        postgresSkipped = probe.reason
        database = 'memory:// (embedded PGlite; no PostgreSQL server)'
      }
    }
    for (const storeBackend of ['memory', 'postgres'] as const) {
      const label = `parley (${storeBackend})`
      if (storeBackend === 'postgres' && postgresSkipped !== undefined) {
        rows.push({ label, target: 'parley', skipped: postgresSkipped })
        continue
      }
      const contender: Contender = {
        label,
        target: 'parley',
        gateway: { entry: gateway.path, storeBackend, database: freshDatabase },
      }
      contenders.push(contender)
      rows.push(contender)
    }
    // The default deployment: the embedded database in the run's data folder, the database store backend.
    const embedded: Contender = {
      label: 'parley (embedded)',
      target: 'parley',
      gateway: {
        entry: gateway.path,
        storeBackend: 'postgres',
        database: async () => existing(EMBEDDED_DATABASE),
      },
    }
    contenders.push(embedded)
    rows.push(embedded)
  }
  const baselines = baselineContenders(options)
  contenders.push(...baselines)
  rows.push(...baselines)
  const rowNames = rows.map((row) => (row.skipped === undefined ? row.label : `${row.label} (skipped)`))
  const description = [describeLoad('Durable', load, rowNames, options.runs)]
  if (gateway) description.push(`Parley: CLI ${gateway.path}, database ${database}`)
  return {
    name: 'durable',
    description,
    load,
    contenders,
    rows,
    database,
    render: renderDurableTable,
  }
}

/** What a gateway that does not relay between nodes is told. */
const PARLEY_CROSS_NODE_HINT =
  'the gateway must join the Redis bus (PARLEY_REDIS_URL) and relay publications to the other nodes; ' +
  'this build does not (no Redis bus, or a bus that does not fan out across nodes)'

/**
 * Two nodes on one Redis: the publisher on node A, every subscriber on node B, so each publication crosses
 * Redis once. Parley runs both nodes on one fresh PostgreSQL database and a store backend they share
 * (`--crossnode-store`: postgres, or redis on the scenario's Redis under the run's prefix), since channel
 * offsets and history must be the same on every node.
 */
async function crossNodePlan(options: BenchOptions, gateway: GatewayEntry): Promise<ScenarioPlan> {
  const load: PublishLoad = {
    kind: 'publish',
    ...loadTiming(options),
    channel: 'bench.crossnode',
    subscribers: options.crossnodeSubscribers,
    window: options.window,
  }
  const redis = await probeRedis(options.redisUrl)
  if (!redis.usable && options.requireRedis) throw new Error(`--require-redis: ${redis.reason}`)
  const redisUrl = options.redisUrl
  const rows: TableRow[] = []
  const contenders: Contender[] = []
  let database: string | undefined
  let parleySkipped: string | undefined
  let freshDatabase = async () => existing('memory://')
  if (gateway && redis.usable) {
    const serverUrl = options.databaseUrl ?? DEFAULT_POSTGRES_URL
    if (serverUrl === 'memory://') {
      parleySkipped = 'two nodes need a shared database, and memory:// is embedded in each gateway process'
    } else {
      const probe = await probeServer(serverUrl)
      requireServer(probe, options.requirePostgres)
      if (probe.usable) {
        freshDatabase = () => createRunDatabase(serverUrl)
        database = `a throw-away parley_bench_* per run, shared by both nodes, on ${redactDatabaseUrl(serverUrl)} (${probe.description})`
      } else {
        parleySkipped = `two nodes need a shared database: ${probe.reason}`
      }
    }
  }
  for (const target of options.targets) {
    const label = TARGET_LABELS[target]
    if (!redis.usable) {
      rows.push({ label, target, skipped: redis.reason })
      continue
    }
    if (target === 'parley') {
      if (!gateway) continue
      if (parleySkipped !== undefined) {
        rows.push({ label, target, skipped: parleySkipped })
        continue
      }
    }
    const contender: Contender = {
      label,
      target,
      crossNode: {
        redisUrl,
        hint:
          target === 'parley'
            ? PARLEY_CROSS_NODE_HINT
            : `the ${label} baseline's Redis relay did not deliver (see src/servers/)`,
      },
      ...(target === 'parley' && gateway
        ? { gateway: { entry: gateway.path, storeBackend: options.crossnodeStore, database: freshDatabase } }
        : {}),
    }
    contenders.push(contender)
    rows.push(contender)
  }
  const rowNames = rows.map((row) => (row.skipped === undefined ? row.label : `${row.label} (skipped)`))
  const description = [
    describeLoad('Cross-node', load, rowNames, options.runs, {
      subscribers: ' on node B',
      publisher: ' on node A',
    }),
    redis.usable
      ? `Redis: ${redactRedisUrl(redisUrl)} (${redis.description}), a fresh key prefix per run`
      : `Redis: ${redis.reason}; the scenario is skipped (--require-redis makes this an error)`,
  ]
  if (gateway && database) {
    description.push(
      `Parley: CLI ${gateway.path}, --store-backend ${options.crossnodeStore}, database ${database}`,
    )
  }
  return {
    name: 'crossnode',
    description,
    load,
    contenders,
    rows,
    database,
    render: renderCrossNodeTable,
  }
}

/**
 * Request / response: the callers keep `--request-window` requests in flight to the `echo` capability,
 * `--request-agents` agent connections answer each one at once. Parley runs as in the fan-out scenario
 * (its configured database, the in-memory store backend) and routes by capability; the baselines relay
 * to their agents in turn.
 */
async function requestPlan(options: BenchOptions, gateway: GatewayEntry): Promise<ScenarioPlan> {
  const load: RequestLoad = {
    kind: 'request',
    ...loadTiming(options),
    capability: 'echo',
    agents: options.requestAgents,
    callers: options.requestCallers,
    window: options.requestWindow,
  }
  const contenders: Contender[] = []
  const rows: TableRow[] = []
  const databases = gateway && options.targets.includes('parley') ? await requestDatabases(options) : []
  if (gateway) {
    for (const database of databases) {
      if ('skipped' in database) {
        rows.push({ label: database.label, target: 'parley', skipped: database.skipped })
        continue
      }
      const parley = withAuditRows(
        [
          {
            label: database.label,
            target: 'parley',
            gateway: { entry: gateway.path, storeBackend: database.storeBackend, database: database.open },
          },
        ],
        options.requestAudit,
      )
      contenders.push(...parley)
      rows.push(...parley)
    }
  }
  const baselines = baselineContenders(options)
  contenders.push(...baselines)
  rows.push(...baselines)
  const agentProcesses = Math.min(load.workers, load.agents)
  const description = [
    `Request: ${load.callers} caller connections in 1 process keeping ${load.window} requests in flight ` +
      `(~${load.payloadBytes} B each) → the server → ${load.agents} agents in ${agentProcesses} process(es) ` +
      `answering at once, ${load.warmupMs / 1000} s warm-up + ${load.durationMs / 1000} s measured, ` +
      `${options.runs} run(s) of ${rows.map((row) => row.label).join(', ')}`,
  ]
  const where = databases.map((database) => `${database.label}: ${database.description}`).join('; ')
  if (gateway) description.push(`Parley: CLI ${gateway.path}, requests to { capability: 'echo' }; ${where}`)
  return {
    name: 'request',
    description,
    load,
    contenders,
    rows,
    database: gateway ? where : undefined,
    render: renderRequestTable,
  }
}

/**
 * A database the request scenario runs Parley on (a row each, audit on and off per `--audit`), or the reason
 * its row is skipped.
 */
type RequestDatabase = { label: string; description: string } & (
  | { storeBackend: 'memory' | 'postgres'; open: () => Promise<RunDatabase> }
  | { skipped: string }
)

/**
 * Target 1 of issue 16 is on the embedded database and on PostgreSQL: by default the request scenario runs
 * Parley as `pnpm start` does (the embedded database in the run's data folder, in its worker thread, the
 * database store backend) and on a throw-away database per run on the PostgreSQL server (skipped when it does
 * not answer, unless `--require-postgres`). `--database-url` runs one row on that database instead.
 */
async function requestDatabases(options: BenchOptions): Promise<RequestDatabase[]> {
  const given = options.databaseUrl
  if (given !== undefined) {
    return [
      {
        label: 'parley',
        storeBackend: 'memory',
        open: async () => existing(given),
        description: redactDatabaseUrl(given),
      },
    ]
  }
  const embedded: RequestDatabase = {
    label: 'parley (embedded)',
    storeBackend: 'postgres',
    open: async () => existing(EMBEDDED_DATABASE),
    description: EMBEDDED_DESCRIPTION,
  }
  const serverUrl = DEFAULT_POSTGRES_URL
  const probe = await probeServer(serverUrl)
  requireServer(probe, options.requirePostgres)
  const server: RequestDatabase = probe.usable
    ? {
        label: 'parley (postgres)',
        storeBackend: 'postgres',
        open: () => createRunDatabase(serverUrl),
        description: `a throw-away parley_bench_* per run on ${redactDatabaseUrl(serverUrl)} (${probe.description})`,
      }
    : { label: 'parley (postgres)', description: 'skipped', skipped: probe.reason }
  return [embedded, server]
}

/**
 * `--audit`: the Parley row as it is (`on`), with the audit off (`off`), or both rows, the audit-off one right
 * after the other so that each run compares them side by side (`both`).
 */
function withAuditRows(contenders: Contender[], audit: RequestAudit): Contender[] {
  if (audit === 'on') return contenders
  return contenders.flatMap((contender) => {
    if (contender.gateway === undefined) return [contender]
    const off: Contender = {
      ...contender,
      label: auditOffLabel(contender.label),
      gateway: { ...contender.gateway, auditOff: true },
    }
    return audit === 'off' ? [off] : [contender, off]
  })
}

/**
 * A2A: `--a2a-clients` `@a2a-js/sdk` clients (found through the agent card, `createFromUrl`) keep
 * `--a2a-window` blocking `SendMessage` calls in flight. Parley (its configured database, the in-memory store
 * backend) hands each to one Parley agent connection through its A2A face; the baseline is an
 * `@a2a-js/sdk` server (`DefaultRequestHandler` + an `AgentExecutor` answering at once) called directly.
 */
function a2aPlan(options: BenchOptions, gateway: GatewayEntry): ScenarioPlan {
  const load: RequestLoad = {
    kind: 'request',
    protocol: 'a2a',
    ...loadTiming(options),
    capability: 'echo',
    // Parley's A2A face addresses one agent id: one agent connection answers.
    agents: 1,
    callers: options.a2aClients,
    window: options.a2aWindow,
  }
  const databaseUrl = options.databaseUrl ?? 'memory://'
  const contenders: Contender[] = [
    ...(gateway && options.targets.includes('parley')
      ? [
          {
            label: 'parley (a2a)',
            target: 'parley' as const,
            gateway: {
              entry: gateway.path,
              storeBackend: 'memory' as const,
              database: async () => existing(databaseUrl),
            },
          },
        ]
      : []),
    { label: TARGET_LABELS.a2a, target: 'a2a' },
  ]
  const description = [
    `A2A: ${load.callers} @a2a-js/sdk clients in 1 process keeping ${load.window} SendMessage calls in flight ` +
      `(~${load.payloadBytes} B data part each) → the server → the agent answering at once, ` +
      `${load.warmupMs / 1000} s warm-up + ${load.durationMs / 1000} s measured, ` +
      `${options.runs} run(s) of ${contenders.map((contender) => contender.label).join(', ')}`,
  ]
  if (gateway) {
    description.push(
      `Parley: CLI ${gateway.path}, database ${redactDatabaseUrl(databaseUrl)}, A2A face of one agent ` +
        'connection; a2a-js direct: DefaultRequestHandler + AgentExecutor + in-memory task store on node:http',
    )
  }
  return {
    name: 'a2a',
    description,
    load,
    contenders,
    rows: contenders,
    database: gateway ? redactDatabaseUrl(databaseUrl) : undefined,
    render: renderRequestTable,
  }
}
