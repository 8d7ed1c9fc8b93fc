/**
 * What every load role (see worker.ts) shares: the IPC with the orchestrator, bounded connection opening,
 * and the warm-up / measure / drain run of the sending roles.
 */
import { monotonicMs } from '../clock.js'
import type { FromWorker, ToWorker, WorkerConfig } from '../ipc.js'

export const CONNECT_TIMEOUT_MS = 15_000
/** After the measurement window, how long a publisher or caller waits for the last answers. */
export const DRAIN_TIMEOUT_MS = 15_000
/** No acknowledgement and no progress for this long means the server stopped serving us. */
export const STALL_TIMEOUT_MS = 15_000
/** A forked worker waits this long for its configuration at most. */
const CONFIG_TIMEOUT_MS = 600_000

export function send(message: FromWorker): void {
  process.send?.(message)
}

let failed = false
/** Reports the failure to the orchestrator, then exits once the message has left. */
export function fail(message: string): void {
  if (failed) return
  failed = true
  process.send?.({ type: 'failed', message } satisfies FromWorker, () => process.exit(1))
  setTimeout(() => process.exit(1), 1000).unref()
}

export function onCommand(handler: (command: ToWorker) => void): void {
  process.on('message', (message) => handler(message as ToWorker))
}

/** Reports `booted`, then resolves with the configuration the orchestrator sends. */
export function receiveConfig(): Promise<WorkerConfig> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => process.exit(3), CONFIG_TIMEOUT_MS)
    const onMessage = (message: ToWorker) => {
      if (message.type !== 'config') return
      clearTimeout(timer)
      process.off('message', onMessage)
      resolve(message.config)
    }
    process.on('message', onMessage)
    send({ type: 'booted' })
  })
}

/**
 * Opens `count` connections, `concurrency` handshakes at a time (a thousand simultaneous handshakes would
 * overflow the accept backlog); rejects with the first failure.
 */
export async function openAll<T>(
  count: number,
  concurrency: number,
  open: (index: number) => Promise<T>,
): Promise<T[]> {
  const opened: T[] = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      const index = next++
      opened[index] = await open(index)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker))
  return opened
}

/** The padding that brings the JSON of a payload's data to about `payloadBytes`. */
export function payloadPadding(payloadBytes: number): string {
  const base = JSON.stringify({ seq: 1_000_000, t: monotonicMs(), m: 1, pad: '' }).length
  return 'x'.repeat(Math.max(0, payloadBytes - base))
}

/** The phases of a sending role (publisher, callers), from `start` to its result. */
export type SendPhase = 'idle' | 'warmup' | 'measure' | 'drain' | 'done'

/** Where a sending role is in its run, and which of its sequence numbers were sent while measuring. */
export interface SendRun {
  phase: SendPhase
  /** Monotonic ms of the last answer or acknowledgement (the stall watch reads it). */
  lastProgressAt: number
  /** First sequence number sent while measuring (0 until measurement starts). */
  firstMeasuredSeq: number
  /** Last sequence number sent while measuring (0 until measurement ends). */
  lastMeasuredSeq: number
  measureStartedAt: number
  measureEndedAt: number
}

export function createSendRun(): SendRun {
  return {
    phase: 'idle',
    lastProgressAt: monotonicMs(),
    firstMeasuredSeq: 0,
    lastMeasuredSeq: 0,
    measureStartedAt: 0,
    measureEndedAt: 0,
  }
}

/** Whether the role sends new messages now (warm-up or measurement). */
export const isSending = (run: SendRun): boolean => run.phase === 'warmup' || run.phase === 'measure'

/** How many sequence numbers were sent while measuring. */
export const measuredSent = (run: SendRun): number =>
  run.lastMeasuredSeq >= run.firstMeasuredSeq ? run.lastMeasuredSeq - run.firstMeasuredSeq + 1 : 0

/**
 * A sending role's run after the orchestrator's `start`: warm-up for `warmupMs`, measurement for
 * `durationMs`, then drain until the role finishes itself or DRAIN_TIMEOUT_MS passes. `run` follows the
 * phases (`nextSeq` is the sequence number the role sends next); `pump` runs after every change of phase;
 * the orchestrator hears when measurement starts and ends.
 */
export function runPhases(
  durations: { warmupMs: number; durationMs: number },
  run: SendRun,
  nextSeq: () => number,
  role: { pump(): void; finish(drained: boolean): void },
): void {
  run.phase = 'warmup'
  run.lastProgressAt = monotonicMs()
  setTimeout(() => {
    run.phase = 'measure'
    run.measureStartedAt = monotonicMs()
    run.firstMeasuredSeq = nextSeq()
    send({ type: 'phase', phase: 'measure-start' })
    setTimeout(() => {
      run.measureEndedAt = monotonicMs()
      run.lastMeasuredSeq = nextSeq() - 1
      run.phase = 'drain'
      send({ type: 'phase', phase: 'measure-end' })
      setTimeout(() => role.finish(false), DRAIN_TIMEOUT_MS).unref()
      role.pump()
    }, durations.durationMs)
    role.pump()
  }, durations.warmupMs)
  role.pump()
}

/** Fails the worker when the role is sending and nothing has progressed for STALL_TIMEOUT_MS. */
export function watchForStall(run: SendRun, what: string): void {
  const stallWatch = setInterval(() => {
    if (isSending(run) && monotonicMs() - run.lastProgressAt > STALL_TIMEOUT_MS) {
      fail(`${what} for ${STALL_TIMEOUT_MS / 1000} s`)
    }
  }, 1000)
  stallWatch.unref()
}
