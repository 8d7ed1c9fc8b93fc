/**
 * One run of the storm scenario for one target: the server, the cut proxies, the subscriber processes and
 * the publisher; then each disruption in turn (Parley: the gateway SIGKILLed and restarted on its port and
 * database, then the network cut; Socket.IO: the cut), each followed by bounded waits until every client is
 * back and has caught up; then the final counts. See ../README.md, "Storm scenario".
 */
import type { ChildProcess } from 'node:child_process'
import { setPriority } from 'node:os'
import { fileURLToPath } from 'node:url'
import { monotonicMs } from './clock.js'
import type { RunDatabase } from './databases.js'
import { megabytes } from './measurement.js'
import { forkTs, freePort, readMemory, sendTo, stopProcess, waitForMatch } from './processes.js'
import type { Contender } from './run-plan.js'
import type { FromProxy } from './servers/tcp-cut-proxy.js'
import { type RunningServer, startServer } from './servers.js'
import { mergeCounts, type StormFigures, type StormPhaseFigures, stormProblems } from './storm-figures.js'
import type {
  FromStorm,
  PhaseCounts,
  PublisherResult,
  StormSubscribersConfig,
  StormTarget,
  SubscribersResult,
  ToStorm,
} from './storm-ipc.js'

const CLIENTS_SCRIPT = fileURLToPath(new URL('./load/storm-clients.ts', import.meta.url))
const PROXY_SCRIPT = fileURLToPath(new URL('./servers/tcp-cut-proxy.ts', import.meta.url))
/** Connections per proxy process: two file descriptors each, under the 20,000 a process may open here. */
const CONNECTIONS_PER_PROXY = 4000
/** Subscribers per load process at most. */
const CLIENTS_PER_WORKER = 2500
const RSS_SAMPLE_MS = 100
/** `heartbeatInterval`'s default in the gateway's config. */
const GATEWAY_DEFAULT_HEARTBEAT_SECONDS = 30

export interface StormSettings {
  subscribers: number
  channels: string[]
  ratePerChannel: number
  workers: number
  connectConcurrency: number
  /** Steady publishing before each disruption, ms. */
  settleMs: number
  /**
   * Niceness of the load processes (subscribers and publisher): on one shared machine they stand in for clients
   * on machines of their own, so the server and the proxies (the network) get the CPU they ask for first (0: all
   * at the same priority). The proxies stay at the server's priority: niced too, they became the bottleneck.
   */
  loadNice: number
}

/** Lowers a load-side process's priority to `nice` (a no-op at 0, or where the system refuses). */
function deprioritize(child: ChildProcess, nice: number): void {
  if (nice <= 0 || child.pid === undefined) return
  try {
    setPriority(child.pid, nice)
  } catch {
    // Not permitted here: the run goes on at equal priority.
  }
}

/** Generous bounds for a loaded 2-core machine: they end a stuck run, they are not what is measured. */
function bounds(subscribers: number) {
  return {
    setupMs: 120_000 + subscribers * 100,
    phaseMs: 180_000 + subscribers * 10,
    stepMs: 60_000,
  }
}

/** A storm process's message that `accept` takes; a `failed` one, an exit or the timeout rejects. */
const waitFor = <T extends FromStorm>(
  child: ChildProcess,
  accept: (message: FromStorm) => message is T,
  timeoutMs: number,
  what: string,
): Promise<T> => waitForMatch(child, accept, timeoutMs, what)

const is =
  <K extends FromStorm['type']>(type: K) =>
  (message: FromStorm): message is Extract<FromStorm, { type: K }> =>
    message.type === type

const command = (child: ChildProcess, message: ToStorm) => sendTo(child, message)

/** The highest RSS of the server while `run` lasts, sampled; the pid may change (a restart). */
async function sampledPeak<T>(pid: () => number, run: () => Promise<T>): Promise<[T, number | undefined]> {
  let peak: number | undefined
  const sample = () => {
    const rss = readMemory(pid())?.rssBytes
    if (rss !== undefined) peak = Math.max(peak ?? 0, rss)
  }
  sample()
  const timer = setInterval(sample, RSS_SAMPLE_MS)
  try {
    const result = await run()
    sample()
    return [result, megabytes(peak)]
  } finally {
    clearInterval(timer)
  }
}

interface Proxy {
  child: ChildProcess
  port: number
}

async function startProxy(targetPort: number, timeoutMs: number): Promise<Proxy> {
  const child = forkTs(PROXY_SCRIPT, [String(targetPort)])
  const listening = await new Promise<FromProxy>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the cut proxy did not start')), timeoutMs)
    child.once('message', (message: FromProxy) => {
      clearTimeout(timer)
      resolve(message)
    })
    child.once('exit', () => reject(new Error('the cut proxy exited')))
  })
  return { child, port: listening.type === 'listening' ? listening.port : 0 }
}

function cutAll(proxies: Proxy[]): Promise<number> {
  return Promise.all(
    proxies.map(
      (proxy) =>
        new Promise<number>((resolve) => {
          proxy.child.once('message', (message: FromProxy) =>
            resolve(message.type === 'cut' ? message.count : 0),
          )
          sendTo(proxy.child, { type: 'cut' })
        }),
    ),
  ).then((counts) => counts.reduce((sum, count) => sum + count, 0))
}

/** The server of a run: the gateway (restartable on its port and database) or the Socket.IO baseline. */
interface StormServer {
  target: StormTarget
  port: number
  current: RunningServer
  restart?(): Promise<number>
  stop(): Promise<void>
}

async function startStormServer(contender: Contender, subscribers: number): Promise<StormServer> {
  if (contender.target === 'socketio') {
    const current = await startServer('socketio', { kind: 'storm', maxConnections: 0, gateway: undefined })
    return {
      target: 'socketio',
      port: Number(new URL(current.baseUrl).port),
      current,
      stop: () => current.stop(),
    }
  }
  const gateway = contender.gateway
  if (gateway === undefined) throw new Error('the parley row needs the gateway CLI')
  const database: RunDatabase = await gateway.database()
  const port = await freePort()
  const launch = {
    kind: 'publish' as const,
    // The clients, the publisher and some room: a refusal would be a finding, not a limit of the set-up.
    maxConnections: subscribers + 100,
    gateway: { entry: gateway.entry, databaseUrl: database.url, storeBackend: gateway.storeBackend },
    port,
    // The gateway's default (not the bench's 600 s): dead peers and abandoned poll sessions (reaped after two
    // heartbeats) go as in a deployment, which is what a reconnect storm leaves behind.
    heartbeatSeconds: GATEWAY_DEFAULT_HEARTBEAT_SECONDS,
  }
  try {
    const server: StormServer = {
      target: 'parley',
      port,
      current: await startServer('parley', launch),
      async restart() {
        const killedAt = monotonicMs()
        process.kill(server.current.pid, 'SIGKILL')
        await server.current.stop()
        server.current = await startServer('parley', launch)
        return monotonicMs() - killedAt
      },
      async stop() {
        await server.current.stop()
        await database.drop()
      },
    }
    return server
  } catch (error) {
    await database.drop()
    throw error
  }
}

/** A phase's timings and memory; its counts come from the subscriber processes at the end. */
type MeasuredPhase = Omit<StormPhaseFigures, keyof PhaseCounts>

interface Fleet {
  subscribers: ChildProcess[]
  publisher: ChildProcess
}

async function phaseOfStorm(
  phase: 'restart' | 'cut',
  fleet: Fleet,
  server: StormServer,
  proxies: Proxy[],
  limits: ReturnType<typeof bounds>,
): Promise<MeasuredPhase> {
  await Promise.all(
    fleet.subscribers.map((child, index) => {
      command(child, { type: 'phase', phase })
      return waitFor(child, is('phase-set'), limits.stepMs, `subscriber process ${index}: phase`)
    }),
  )
  const backs = fleet.subscribers.map((child, index) =>
    waitFor(
      child,
      (message): message is Extract<FromStorm, { type: 'all-back' }> =>
        message.type === 'all-back' && message.phase === phase,
      limits.phaseMs,
      `subscriber process ${index}: every client back after the ${phase}`,
    ),
  )
  for (const back of backs) back.catch(() => {})
  const [figures, peakRssMb] = await sampledPeak(
    () => server.current.pid,
    async () => {
      const startedAt = monotonicMs()
      let downMs: number | undefined
      let cutConnections: number | undefined
      if (phase === 'restart') {
        if (server.restart === undefined) throw new Error(`${server.target} is not restarted`)
        downMs = await server.restart()
      } else {
        cutConnections = await cutAll(proxies)
      }
      const backAt = Math.max(...(await explained(fleet, Promise.all(backs))).map((message) => message.at))
      const caughtUpAt = await explained(
        fleet,
        catchUp(fleet, await snapshot(fleet.publisher, limits), limits, phase),
      )
      return { downMs, cutConnections, backMs: backAt - startedAt, caughtUpMs: caughtUpAt - startedAt }
    },
  )
  return {
    phase,
    ...figures,
    peakRssMb,
    ...(figures.downMs === undefined ? {} : { downMs: figures.downMs }),
    ...(figures.cutConnections === undefined ? {} : { cutConnections: figures.cutConnections }),
  }
}

/** A failed wait, with what the subscriber processes say about the clients that are not there. */
async function explained<T>(fleet: Fleet, wait: Promise<T>): Promise<T> {
  try {
    return await wait
  } catch (error) {
    const statuses = await Promise.all(
      fleet.subscribers.map((child) => {
        command(child, { type: 'status' })
        return waitFor(child, is('status'), 10_000, 'status').catch(() => undefined)
      }),
    )
    const notBack = statuses.reduce((sum, status) => sum + (status?.notBack ?? 0), 0)
    const behind = statuses.reduce((sum, status) => sum + (status?.behind ?? 0), 0)
    const examples = statuses.flatMap((status) => status?.examples ?? []).slice(0, 6)
    throw new Error(
      `${(error as Error).message} (${notBack} clients not back, ${behind} behind; ${examples.join('; ')})`,
    )
  }
}

async function snapshot(
  publisher: ChildProcess,
  limits: ReturnType<typeof bounds>,
): Promise<Record<string, number>> {
  command(publisher, { type: 'snapshot' })
  return (await waitFor(publisher, is('snapshot'), limits.stepMs, 'publisher: snapshot')).acked
}

/** Resolves with the time every client had at least `targets` (per channel). */
async function catchUp(
  fleet: Fleet,
  targets: Record<string, number>,
  limits: ReturnType<typeof bounds>,
  what: string,
): Promise<number> {
  const caughtUp = fleet.subscribers.map((child, index) => {
    const reached = waitFor(
      child,
      is('caught-up'),
      limits.phaseMs,
      `subscriber process ${index}: caught up (${what})`,
    )
    command(child, { type: 'catch-up', targets })
    return reached
  })
  return Math.max(...(await Promise.all(caughtUp)).map((message) => message.at))
}

/** Waits until the publisher has acknowledged at least one publication on every channel. */
async function firstPublications(publisher: ChildProcess, limits: ReturnType<typeof bounds>) {
  const deadline = Date.now() + limits.stepMs
  for (;;) {
    const acked = await snapshot(publisher, limits)
    if (Object.values(acked).every((n) => n > 0)) return acked
    if (Date.now() > deadline) throw new Error('the publisher got no acknowledgement on some channel')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export async function runStorm(contender: Contender, settings: StormSettings): Promise<StormFigures> {
  const limits = bounds(settings.subscribers)
  const target: StormTarget = contender.target === 'socketio' ? 'socketio' : 'parley'
  const workerCount = Math.min(
    settings.subscribers,
    Math.max(settings.workers, Math.ceil(settings.subscribers / CLIENTS_PER_WORKER)),
  )
  const deadlineMs = limits.setupMs + 3 * limits.phaseMs
  const children: ChildProcess[] = []
  const fork = () => {
    const child = forkTs(CLIENTS_SCRIPT, [])
    deprioritize(child, settings.loadNice)
    children.push(child)
    return child
  }
  // Forked first: their start-up (tsx, modules) overlaps the server's.
  const fleet: Fleet = { subscribers: Array.from({ length: workerCount }, fork), publisher: fork() }
  const booted = children.map((child) => waitFor(child, is('booted'), limits.setupMs, 'load process start'))
  for (const boot of booted) boot.catch(() => {})
  let server: StormServer | undefined
  const proxies: Proxy[] = []
  try {
    server = await startStormServer(contender, settings.subscribers)
    const proxyCount = Math.ceil(settings.subscribers / CONNECTIONS_PER_PROXY)
    for (let index = 0; index < proxyCount; index++)
      proxies.push(await startProxy(server.port, limits.stepMs))
    await Promise.all(booted)

    let firstIndex = 0
    const ready = fleet.subscribers.map((child, index) => {
      const count =
        Math.floor(settings.subscribers / workerCount) + (index < settings.subscribers % workerCount ? 1 : 0)
      const proxy = proxies[index % proxies.length]
      const config: StormSubscribersConfig = {
        role: 'subscribers',
        target,
        url: target === 'parley' ? `ws://127.0.0.1:${proxy?.port}/ws` : `http://127.0.0.1:${proxy?.port}`,
        channels: settings.channels,
        firstIndex,
        count,
        connectConcurrency: Math.max(1, Math.floor(settings.connectConcurrency / workerCount)),
        deadlineMs,
      }
      firstIndex += count
      command(child, { type: 'config', config })
      return waitFor(child, is('ready'), limits.setupMs, `subscriber process ${index}: set-up`)
    })
    await Promise.all(ready)
    command(fleet.publisher, {
      type: 'config',
      config: {
        role: 'publisher',
        target,
        url: target === 'parley' ? `ws://127.0.0.1:${server.port}/ws` : `http://127.0.0.1:${server.port}`,
        channels: settings.channels,
        ratePerChannel: settings.ratePerChannel,
        deadlineMs,
      },
    })
    await waitFor(fleet.publisher, is('ready'), limits.stepMs, 'publisher: set-up')
    command(fleet.publisher, { type: 'start' })
    // Every client has a position on its channel before the first disruption.
    await catchUp(fleet, await firstPublications(fleet.publisher, limits), limits, 'first publications')
    await settle(settings.settleMs)
    const steadyRssMb = megabytes(readMemory(server.current.pid)?.rssBytes)

    const phases: MeasuredPhase[] = []
    for (const phase of target === 'parley' ? (['restart', 'cut'] as const) : (['cut'] as const)) {
      if (phases.length > 0) await settle(settings.settleMs)
      phases.push(await phaseOfStorm(phase, fleet, server, proxies, limits))
    }

    // The end: the publisher stops after its publications in flight; every client must reach its channel's last.
    command(fleet.publisher, { type: 'stop' })
    const publisher = (
      await waitFor(fleet.publisher, is('publisher-result'), limits.phaseMs, 'publisher: stop')
    ).result
    await Promise.all(
      fleet.subscribers.map((child, index) => {
        command(child, { type: 'phase', phase: 'final' })
        return waitFor(child, is('phase-set'), limits.stepMs, `subscriber process ${index}: phase`)
      }),
    )
    // Not caught up in time: the subscribers' results say how many clients are short.
    await catchUp(fleet, publisher.acked, limits, 'the last publications').catch(() => {})
    const results = await Promise.all(
      fleet.subscribers.map((child, index) => {
        command(child, { type: 'stop' })
        return waitFor(child, is('subscribers-result'), limits.stepMs, `subscriber process ${index}: result`)
      }),
    )
    return summarise(
      contender.label,
      settings,
      phases,
      results.map((message) => message.result),
      publisher,
      steadyRssMb,
    )
  } finally {
    await Promise.all(
      [...children, ...proxies.map((proxy) => proxy.child)].map((child) => stopProcess(child, 1000)),
    )
    await server?.stop()
  }
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function summarise(
  label: string,
  settings: StormSettings,
  measured: MeasuredPhase[],
  results: SubscribersResult[],
  publisher: PublisherResult,
  steadyRssMb: number | undefined,
): StormFigures {
  const phases = measured.map((phase) => ({ ...phase, ...mergeCounts(results, phase.phase) }))
  const setup = mergeCounts(results, 'setup')
  const final = mergeCounts(results, 'final')
  let expected = 0
  const perChannel = Math.floor(settings.subscribers / settings.channels.length)
  settings.channels.forEach((channel, index) => {
    const clients = perChannel + (index < settings.subscribers % settings.channels.length ? 1 : 0)
    expected += clients * (publisher.acked[channel] ?? 0)
  })
  const figures = {
    subscribers: settings.subscribers,
    channels: settings.channels.length,
    ratePerChannel: settings.ratePerChannel,
    phases,
    steadyRssMb,
    publisher,
    expected,
    received: results.reduce((sum, result) => sum + result.received, 0),
    clientsBehindAtEnd: results.reduce((sum, result) => sum + result.behind, 0),
    otherGaps: setup.gaps + final.gaps,
    otherDuplicates: setup.duplicates + final.duplicates,
    examples: results.flatMap((result) => result.examples).slice(0, 10),
  }
  return { ...figures, problems: stormProblems(figures, label) }
}
