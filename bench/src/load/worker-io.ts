/** The IPC side of a load worker: what every role (see worker.ts) uses to talk to the orchestrator. */
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
