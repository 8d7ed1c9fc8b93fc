import { type Logger, pino } from 'pino'
import { expect } from 'vitest'
import { connectFrameClient, type GatewayUrls, type TransportName } from './frame-client.js'

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

/**
 * After a fuzz run: a fresh subscriber and publisher (on the transports given) still exchange a publication,
 * nothing reached the process's error hooks or the error log, and no prototype was polluted.
 */
export async function expectStillServing(
  watch: ProcessWatch,
  urls: GatewayUrls,
  transports: { subscriber: TransportName; publisher: TransportName },
): Promise<void> {
  const subscriber = await connectFrameClient(transports.subscriber, urls)
  const publisher = await connectFrameClient(transports.publisher, urls)
  try {
    await subscriber.subscribe('after.fuzz')
    const answer = await publisher.request({ type: 'publish', channel: 'after.fuzz', data: 'still here' })
    expect(answer).toMatchObject({ type: 'reply' })
    expect(await subscriber.next('channel_message')).toMatchObject({ data: 'still here' })
  } finally {
    subscriber.close()
    publisher.close()
  }
  expect(watch.problems()).toEqual([])
  expect(prototypePolluted()).toBe(false)
}
