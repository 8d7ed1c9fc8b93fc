import { type Logger, pino } from 'pino'

/**
 * Watches the test process while a fuzz suite drives a gateway inside it: uncaught exceptions, unhandled
 * rejections and every log line at level error (a handler that failed in a way nobody typed) are recorded,
 * so the suite can assert there were none.
 */
export interface ProcessWatch {
  /** A logger for the gateway: silent below error, error lines recorded in `errorLogs`. */
  logger: Logger
  readonly uncaught: unknown[]
  readonly errorLogs: Array<Record<string, unknown>>
  /** Everything recorded so far, for an assertion message. */
  problems(): unknown[]
  stop(): void
}

export function watchProcess(): ProcessWatch {
  const uncaught: unknown[] = []
  const errorLogs: Array<Record<string, unknown>> = []
  const onUncaught = (error: unknown) => uncaught.push(error)
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUncaught)
  const logger = pino(
    { level: 'error' },
    {
      write(line: string) {
        errorLogs.push(JSON.parse(line) as Record<string, unknown>)
      },
    },
  )
  return {
    logger,
    uncaught,
    errorLogs,
    problems: () => [...uncaught, ...errorLogs],
    stop() {
      process.off('uncaughtException', onUncaught)
      process.off('unhandledRejection', onUncaught)
    },
  }
}

/** True when something polluted `Object.prototype` (a `__proto__` key merged where it should not be). */
export function prototypePolluted(): boolean {
  const probe: Record<string, unknown> = {}
  return 'polluted' in probe
}
