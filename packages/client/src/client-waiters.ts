import type { ParleyError } from './errors.js'
import type { WelcomeInfo } from './push-client-types.js'

/** Who waits for the client: `connect()` callers, `waitClosed()` callers and `waitFor` calls. */
export class ClientWaiters {
  /** Failed with the error when the client closes for good, so no `waitFor` outlives the client. */
  readonly untilClosed = new Set<(error: ParleyError) => void>()
  private connecting: Array<{ resolve(info: WelcomeInfo): void; reject(error: ParleyError): void }> = []
  private closed = deferredVoid()

  /** A `connect()` call: settles when the client is `connected`, or stops for good. */
  connect(): Promise<WelcomeInfo> {
    return new Promise<WelcomeInfo>((resolve, reject) => {
      this.connecting.push({ resolve, reject })
    })
  }

  /** `connect()` after `close()`: a new life, with its own end to wait for. */
  reopened(): void {
    this.closed = deferredVoid()
  }

  connected(info: WelcomeInfo): void {
    const waiters = this.connecting
    this.connecting = []
    for (const waiter of waiters) waiter.resolve(info)
  }

  /** The client stopped for good. */
  closedWith(error: ParleyError): void {
    const waiters = this.connecting
    this.connecting = []
    for (const waiter of waiters) waiter.reject(error)
    for (const fail of [...this.untilClosed]) fail(error)
    this.closed.resolve()
  }

  waitClosed(): Promise<void> {
    return this.closed.promise
  }
}

function deferredVoid(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void
  const promise = new Promise<void>((settle) => {
    resolve = settle
  })
  return { promise, resolve }
}
