import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TargetName } from './options.js'
import { freePort, removeOnExit, stopProcess, TSX_IMPORT, track } from './processes.js'

export interface RunningServer {
  target: TargetName
  pid: number
  /** http://127.0.0.1:<port>; the clients derive their WebSocket URL from it. */
  baseUrl: string
  stop(): Promise<void>
}

const EXIT_WITH_PARENT = new URL('./servers/exit-with-parent.ts', import.meta.url).href
const COLLECT_ON_SIGNAL = new URL('./servers/collect-on-signal.ts', import.meta.url).href
/**
 * What a baseline server does: relay publications (fan-out, durable, cross-node) or requests, or serve A2A
 * calls itself (the a2a scenario).
 */
export type BaselineKind = 'publish' | 'request' | 'a2a' | 'connections' | 'storm'
const BASELINE_SERVERS: Record<BaselineKind, Partial<Record<Exclude<TargetName, 'parley'>, string>>> = {
  publish: {
    ws: fileURLToPath(new URL('./servers/ws-server.ts', import.meta.url)),
    socketio: fileURLToPath(new URL('./servers/socketio-server.ts', import.meta.url)),
  },
  request: {
    ws: fileURLToPath(new URL('./servers/ws-relay.ts', import.meta.url)),
    socketio: fileURLToPath(new URL('./servers/socketio-relay.ts', import.meta.url)),
  },
  a2a: {
    a2a: fileURLToPath(new URL('./servers/a2a-server.ts', import.meta.url)),
  },
  // Channels (rooms) and each server's default heartbeat: see connections-scenario.ts.
  connections: {
    ws: fileURLToPath(new URL('./servers/ws-channels-server.ts', import.meta.url)),
    socketio: fileURLToPath(new URL('./servers/socketio-server.ts', import.meta.url)),
  },
  storm: {
    socketio: fileURLToPath(new URL('./servers/socketio-storm-server.ts', import.meta.url)),
  },
}
const STARTUP_TIMEOUT_MS = 60_000
/** Heartbeats far longer than a run, so pings neither cost CPU nor reap anyone mid-measurement. */
const GATEWAY_HEARTBEAT_SECONDS = 600

/**
 * The gateway CLI the bench spawns: an explicit `--gateway-cli`, else `src/cli.ts` (always current, run
 * through tsx) or `dist/cli.js` of the `@parley/gateway` dependency.
 */
export function resolveGatewayEntry(explicit: string | undefined): { path: string } {
  if (explicit !== undefined) {
    const path = resolve(explicit)
    if (!existsSync(path)) throw new Error(`--gateway-cli ${explicit}: no such file`)
    return { path }
  }
  const gatewayDir = dirname(createRequire(import.meta.url).resolve('@parley/gateway/package.json'))
  for (const candidate of ['src/cli.ts', 'dist/cli.js']) {
    const path = join(gatewayDir, candidate)
    if (existsSync(path)) return { path }
  }
  throw new Error(
    `the gateway CLI was not found in ${gatewayDir} (src/cli.ts or dist/cli.js); ` +
      'run the baselines alone with --targets ws,socketio',
  )
}

/** Where Parley keeps deliveries and channel history (`--store-backend`). */
export type StoreBackend = 'memory' | 'postgres' | 'redis'

/** `GatewayLaunch.databaseUrl` for no `--database-url`: the embedded database in the run's data folder. */
export const EMBEDDED_DATABASE = ''

/** How to start the gateway for one run. */
export interface GatewayLaunch {
  /** The CLI entry point (see `resolveGatewayEntry`). */
  entry: string
  databaseUrl: string
  storeBackend: StoreBackend
  /** Start it with `PARLEY_AUDIT_ENABLED=false`: nothing is recorded (the request scenario's audit-off row). */
  auditOff?: boolean
}

/** One node of a cross-node deployment: every node of a run shares the Redis server and the prefix. */
export interface ClusterNode {
  redisUrl: string
  /** Unique to the run: keys and pub/sub channels of other runs and other users of the Redis never mix in. */
  prefix: string
  nodeId: string
}

export interface ServerSettings {
  /** Which baseline server to start; the gateway does both. */
  kind: BaselineKind
  /** Parley refuses connections beyond its limit; the baselines have none. */
  maxConnections: number
  /** Required when the target is Parley. */
  gateway: GatewayLaunch | undefined
  /** Cross-node: join the other nodes through Redis (Parley's bus, the Socket.IO adapter, the ws relay). */
  cluster?: ClusterNode
  /**
   * Each server's default heartbeat (Parley's `heartbeatInterval`, Socket.IO's ping interval; the ws
   * baselines ping every 30 s) instead of the long one that keeps pings out of a throughput run.
   */
  defaultHeartbeat?: boolean
  /** Start with `--expose-gc` and run a full collection on SIGUSR2 (servers/collect-on-signal.ts). */
  collectOnSignal?: boolean
  /** The port to listen on (the storm scenario restarts the gateway on its port); a free one otherwise. */
  port?: number
  /** The gateway's heartbeat, seconds; default 600 (see GATEWAY_HEARTBEAT_SECONDS). */
  heartbeatSeconds?: number
}

export async function startServer(target: TargetName, settings: ServerSettings): Promise<RunningServer> {
  const port = settings.port ?? (await freePort())
  const baseUrl = `http://127.0.0.1:${port}`
  const spawnOptions: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }
  let child: ChildProcess
  let cleanup = () => {}
  const preloads = ['--import', TSX_IMPORT, '--import', EXIT_WITH_PARENT]
  if (settings.collectOnSignal) preloads.push('--expose-gc', '--import', COLLECT_ON_SIGNAL)
  if (target === 'parley') {
    const gateway = settings.gateway
    if (gateway === undefined) throw new Error('starting Parley needs a gateway launch')
    // A throw-away data folder and a fixed admin token: nothing is written into the checkout.
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-'))
    cleanup = removeOnExit(dataDir)
    const entryArgs = [
      ...[gateway.entry, 'serve', '--host', '127.0.0.1', '--port', String(port)],
      ...(gateway.databaseUrl === EMBEDDED_DATABASE ? [] : ['--database-url', gateway.databaseUrl]),
      ...['--store-backend', gateway.storeBackend],
      ...['--max-connections', String(settings.maxConnections)],
    ]
    const args = [...preloads, ...entryArgs]
    child = spawn(process.execPath, args, {
      ...spawnOptions,
      env: {
        ...process.env,
        PARLEY_LOG_LEVEL: 'warn',
        PARLEY_HEARTBEAT_INTERVAL: settings.defaultHeartbeat
          ? undefined
          : String(settings.heartbeatSeconds ?? GATEWAY_HEARTBEAT_SECONDS),
        PARLEY_DATA_DIR: dataDir,
        PARLEY_ADMIN_TOKEN: 'bench-admin-token-not-secret',
        ...(gateway.auditOff ? { PARLEY_AUDIT_ENABLED: 'false' } : {}),
        // Through the environment, so a password in the Redis URL does not show in `ps`.
        ...(settings.cluster
          ? {
              PARLEY_REDIS_URL: settings.cluster.redisUrl,
              PARLEY_REDIS_PREFIX: settings.cluster.prefix,
              PARLEY_NODE_ID: settings.cluster.nodeId,
            }
          : {}),
      },
    })
  } else {
    const script = BASELINE_SERVERS[settings.kind][target]
    if (script === undefined) throw new Error(`no ${target} baseline server for ${settings.kind} loads`)
    child = spawn(process.execPath, [...preloads, script, String(port)], {
      ...spawnOptions,
      env: {
        ...process.env,
        BENCH_REDIS_URL: settings.cluster?.redisUrl ?? '',
        BENCH_REDIS_PREFIX: settings.cluster?.prefix ?? '',
        BENCH_NODE_ID: settings.cluster?.nodeId ?? '',
        BENCH_HEARTBEAT: settings.defaultHeartbeat ? 'default' : 'long',
      },
    })
  }
  track(child)
  const output = captureTail(child)
  try {
    await waitForHealth(baseUrl, child, STARTUP_TIMEOUT_MS)
  } catch (error) {
    await stopProcess(child)
    cleanup()
    const tail = output()
    const node = settings.cluster ? ` (node ${settings.cluster.nodeId})` : ''
    throw new Error(
      `${target} server${node} did not start: ${(error as Error).message}${tail ? `\n${tail}` : ''}`,
    )
  }
  const pid = child.pid
  if (pid === undefined) throw new Error(`${target} server has no pid`)
  return {
    target,
    pid,
    baseUrl,
    async stop() {
      await stopProcess(child)
      cleanup()
    },
  }
}

/** Keeps the last lines a server wrote, to explain a failed start, and keeps its pipes drained. */
function captureTail(child: ChildProcess, maxLines = 30): () => string {
  const lines: string[] = []
  const collect = (chunk: Buffer) => {
    lines.push(
      ...chunk
        .toString()
        .split('\n')
        .filter((line) => line.trim().length > 0),
    )
    if (lines.length > maxLines) lines.splice(0, lines.length - maxLines)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  return () => lines.join('\n')
}

export async function waitForHealth(baseUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the process exited (${child.signalCode ?? `code ${child.exitCode}`})`)
    }
    try {
      // A slow answer still counts (a restarted gateway under a reconnect storm answers late); a refused
      // connection (not listening yet) fails at once and is tried again.
      const response = await fetch(`${baseUrl}/health`, {
        signal: AbortSignal.timeout(Math.max(1000, deadline - Date.now())),
      })
      await response.arrayBuffer()
      if (response.ok) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`GET ${baseUrl}/health did not answer 200 within ${timeoutMs / 1000} s`)
}
