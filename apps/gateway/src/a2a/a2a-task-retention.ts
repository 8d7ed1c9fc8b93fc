import type { TaskStore } from '@parley/stores'
import type { Logger } from 'pino'

/** How often finished tasks past their retention are deleted. */
export const TASK_SWEEP_INTERVAL_MS = 60_000

export interface TaskRetentionOptions {
  tasks: () => TaskStore
  /** Milliseconds a finished task is kept after its last change (`a2a.taskRetention`). */
  retentionMs: number
  logger: Logger
  now?: () => number
  intervalMs?: number
}

/**
 * Deletes finished A2A tasks (with their events and push configs) once their last change is older than the
 * retention; tasks still running are kept. Every node sweeps: a delete is idempotent.
 */
export function createTaskRetention(options: TaskRetentionOptions) {
  const now = options.now ?? Date.now
  let timer: NodeJS.Timeout | undefined

  async function sweep(): Promise<number> {
    const deleted = await options.tasks().deleteExpired(now() - options.retentionMs)
    if (deleted > 0) options.logger.info({ deleted }, 'deleted finished A2A tasks past their retention')
    return deleted
  }

  return {
    sweep,
    start(): void {
      if (timer !== undefined) return
      timer = setInterval(() => {
        sweep().catch((error: unknown) =>
          options.logger.warn({ err: error }, 'A2A task retention sweep failed'),
        )
      }, options.intervalMs ?? TASK_SWEEP_INTERVAL_MS)
      timer.unref()
    },
    stop(): void {
      clearInterval(timer)
      timer = undefined
    },
  }
}
