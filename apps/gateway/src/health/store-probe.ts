import type { Logger } from 'pino'

export type CheckResult = { ok: true } | { ok: false; message: string }

export interface StoreProbeOptions {
  /** Resolves when the store answered; rejects or never settles when it is down. */
  check: () => Promise<unknown>
  /** A check that has not answered by then counts as failed. */
  timeoutMs: number
  /** Period of the background probe. */
  intervalMs: number
  /** What `/ready` says when the check fails (the reason stays in the log: it may name hosts). */
  failureMessage: string
  logger: Logger
}

/**
 * A store's health, probed in the background so that `/ready`, `/health` and `/metrics` read the latest
 * result and never wait on the store. One check at a time: while one hangs (a store that drops packets)
 * no other is started, and the result says failed once the timeout passed.
 */
export interface StoreProbe {
  /** Latest result; undefined before the first check finished. */
  latest(): CheckResult | undefined
  /** Checks now (or joins the check in flight) and resolves with its result, within `timeoutMs`. */
  probe(): Promise<CheckResult>
  start(): void
  stop(): void
}

export function createStoreProbe(options: StoreProbeOptions): StoreProbe {
  let latest: CheckResult | undefined
  /** The check under way, possibly past its timeout. */
  let pending: Promise<unknown> | undefined
  let current: Promise<CheckResult> | undefined
  let timer: NodeJS.Timeout | undefined
  const failed: CheckResult = { ok: false, message: options.failureMessage }

  function record(result: CheckResult, error?: unknown): CheckResult {
    if (!result.ok && latest?.ok !== false) options.logger.warn({ err: error }, options.failureMessage)
    if (result.ok && latest?.ok === false) options.logger.info('store answers again')
    latest = result
    return result
  }

  function probe(): Promise<CheckResult> {
    if (current !== undefined) return current
    if (pending !== undefined) {
      // The previous check still hangs: the store has not answered for longer than the timeout.
      return Promise.resolve(record(failed))
    }
    const check = Promise.resolve().then(options.check)
    pending = check
    check.then(
      () => {
        pending = undefined
      },
      () => {
        pending = undefined
      },
    )
    let timeout: NodeJS.Timeout | undefined
    current = Promise.race([
      check.then(
        () => record({ ok: true }),
        (error: unknown) => record(failed, error),
      ),
      new Promise<CheckResult>((resolve) => {
        timeout = setTimeout(() => resolve(record(failed, new Error('timed out'))), options.timeoutMs)
      }),
    ]).finally(() => {
      clearTimeout(timeout)
      current = undefined
    })
    return current
  }

  return {
    latest: () => latest,
    probe,
    start() {
      if (timer !== undefined) return
      timer = setInterval(() => void probe(), options.intervalMs)
      timer.unref()
    },
    stop() {
      clearInterval(timer)
      timer = undefined
    },
  }
}
