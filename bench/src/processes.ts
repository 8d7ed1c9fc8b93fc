import { type ChildProcess, fork, type Serializable } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import type { FromWorker } from './ipc.js'

/**
 * Every child the bench starts is tracked here and SIGKILLed when the bench exits for any reason, so a
 * crash or Ctrl-C never leaves a server or a load worker behind.
 */
const children = new Set<ChildProcess>()

export function track<T extends ChildProcess>(child: T): T {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Scratch folders (the gateway's data folder) removed on exit, including an exit by Ctrl-C. */
const scratchDirs = new Set<string>()

export function removeOnExit(path: string): () => void {
  scratchDirs.add(path)
  return () => {
    scratchDirs.delete(path)
    rmSync(path, { recursive: true, force: true })
  }
}

export function killChildrenAndCleanUp(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  children.clear()
  for (const path of scratchDirs) rmSync(path, { recursive: true, force: true })
  scratchDirs.clear()
}

/** `node --import tsx`: the loader, resolved from this package so it does not depend on the cwd. */
export const TSX_IMPORT = import.meta.resolve('tsx')

export function forkTs(modulePath: string, args: string[], extraImports: string[] = []): ChildProcess {
  return track(
    fork(modulePath, args, {
      execArgv: ['--import', TSX_IMPORT, ...extraImports.flatMap((url) => ['--import', url])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  )
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

export function sendTo(child: ChildProcess, message: Serializable): void {
  if (child.connected) child.send(message)
}

/** A message from a load process: the scenario's own kinds, and `failed` with its explanation. */
interface WorkerMessage {
  type: string
  /** The explanation, on `failed`. */
  message?: unknown
}

/**
 * Waits for a worker message of the given type (of `FromWorker`, or of another process's own messages). A
 * `failed` message, an exit or the timeout rejects, with the worker's own explanation when it gave one.
 */
export function waitForMessage<K extends Message['type'], Message extends WorkerMessage = FromWorker>(
  child: ChildProcess,
  type: K,
  timeoutMs: number,
  what: string,
): Promise<Extract<Message, { type: K }>> {
  return waitForMatch(
    child,
    (message: Message): message is Extract<Message, { type: K }> => message.type === type,
    timeoutMs,
    what,
  )
}

/** `waitForMessage` for the first message `accept` takes (e.g. a type and a phase). */
export function waitForMatch<Message extends WorkerMessage, T extends Message>(
  child: ChildProcess,
  accept: (message: Message) => message is T,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    const onMessage = (message: Message) => {
      if (accept(message)) {
        cleanup()
        resolve(message)
      } else if (message.type === 'failed') {
        cleanup()
        reject(new Error(`${what}: ${String(message.message)}`))
      }
    }
    const onExit = (code: number | null, signal: string | null) => {
      cleanup()
      reject(new Error(`${what}: the process exited (${signal ?? `code ${code}`}) before answering`))
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`${what}: no answer within ${Math.round(timeoutMs / 1000)} s`))
    }, timeoutMs)
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

/** Asks the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

// ---------------------------------------------------------------- /proc readings (Linux)

/** Clock ticks per second of /proc/<pid>/stat; 100 on every mainstream Linux build. */
const CLOCK_TICKS_PER_SECOND = 100

/**
 * The machine's busy and total CPU time so far, summed over every core (the first line of /proc/stat):
 * busy is everything but idle and iowait. Undefined off Linux.
 */
export function readMachineCpuTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number)
    if (!line.startsWith('cpu ') || ticks.length < 5 || ticks.some(Number.isNaN)) return undefined
    const total = ticks.reduce((sum, value) => sum + value, 0)
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return undefined
  }
}

export interface MemoryReading {
  rssBytes: number
  peakRssBytes: number
}

/** Resident and peak resident memory of a process, or undefined where /proc is not available. */
export function readMemory(pid: number): MemoryReading | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
    const rss = kib('VmRSS')
    const peak = kib('VmHWM')
    if (Number.isNaN(rss)) return undefined
    return { rssBytes: rss * 1024, peakRssBytes: (Number.isNaN(peak) ? rss : peak) * 1024 }
  } catch {
    return undefined
  }
}

/** User + system CPU time a process has used so far, in ms. */
export function readCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const userTicks = Number(fields[11])
    const systemTicks = Number(fields[12])
    if (Number.isNaN(userTicks) || Number.isNaN(systemTicks)) return undefined
    return ((userTicks + systemTicks) * 1000) / CLOCK_TICKS_PER_SECOND
  } catch {
    return undefined
  }
}
