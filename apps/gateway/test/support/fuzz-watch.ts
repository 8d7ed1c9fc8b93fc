import { type Logger, pino } from 'pino'

/**
 * Watches the test process while a fuzz suite drives a gateway inside it: uncaught exceptions, unhandled
 * rejections and every log line at level error (a handler that failed in a way nobody typed) are recorded,
 * so the suite can assert there were none.
 */
export interface ProcessWatch {
  /** A logger for the gateway: silent below error, error lines recorded. */
  logger: Logger
  /** Everything recorded so far. */
  problems(): unknown[]
  /** What was recorded since the last call: a property checks it after each case, so a failure is its own. */
  newProblems(): unknown[]
  stop(): void
}

export function watchProcess(): ProcessWatch {
  const recorded: unknown[] = []
  let seen = 0
  const onUncaught = (error: unknown) => recorded.push(error)
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUncaught)
  const logger = pino(
    { level: 'error' },
    {
      write(line: string) {
        recorded.push(JSON.parse(line) as unknown)
      },
    },
  )
  return {
    logger,
    problems: () => [...recorded],
    newProblems() {
      const fresh = recorded.slice(seen)
      seen = recorded.length
      return fresh
    },
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
