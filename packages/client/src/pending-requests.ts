import type { ClientFrame } from '@parley/protocol'
import { AbortedError, type ParleyError, reasonOf, TimeoutError } from './errors.js'
import type { CallOptions } from './push-client-types.js'
import { afterPendingIo, timeoutTimer } from './timers.js'

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/** The request frames, without the id the client assigns. */
export type RequestBody = DistributiveOmit<Extract<ClientFrame, { id: string }>, 'id'>

export type RequestOutcome = { result: Record<string, unknown> } | { error: ParleyError }

interface PendingRequest {
  frame: ClientFrame
  /** Whether the frame went out on the current socket; unsent requests wait for the next connection. */
  sent: boolean
  timer: ReturnType<typeof setTimeout> | undefined
  resolve(result: Record<string, unknown>): void
  reject(error: ParleyError): void
}

export function abortedError(signal: AbortSignal): ParleyError {
  return new AbortedError(reasonOf(signal.reason))
}

/**
 * The requests waiting for their `reply` or `error`, by id. Each settles exactly once: its answer, its
 * timeout, its abort signal, or the connection it went out on being lost.
 */
export class PendingRequests {
  private readonly requests = new Map<string, PendingRequest>()
  private seq = 0

  /** `send` writes a frame on the current socket and says whether it went out. */
  constructor(private readonly send: (frame: ClientFrame) => boolean) {}

  /**
   * Registers a request (the id is assigned here); it goes out at once when `sendNow`, else on `sendQueued`.
   * The caller checked that `options.signal` is not aborted yet.
   */
  add(
    body: RequestBody,
    timeoutMs: number,
    options: CallOptions,
    sendNow: boolean,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.seq += 1
      const id = `r${this.seq}`
      const frame = { ...body, id } as ClientFrame
      const { signal, onResult } = options
      const onAbort = (): void => {
        if (signal !== undefined) this.settle(id, { error: abortedError(signal) })
      }
      // Given up only if no answer is among the frames that arrived while the timer waited to run.
      const timer = timeoutTimer(timeoutMs, () =>
        afterPendingIo(() => {
          if (this.requests.get(id) !== request) return
          this.requests.delete(id)
          signal?.removeEventListener('abort', onAbort)
          reject(
            options.timeoutError?.() ??
              new TimeoutError(`${body.type} request ${id} got no answer within ${timeoutMs} ms`),
          )
        }),
      )
      const request: PendingRequest = {
        frame,
        sent: false,
        timer,
        resolve(result) {
          signal?.removeEventListener('abort', onAbort)
          onResult?.(result)
          resolve(result)
        },
        reject(error) {
          signal?.removeEventListener('abort', onAbort)
          reject(error)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.requests.set(id, request)
      // While reconnecting the request waits (within its timeout) and goes out on the next connection.
      if (sendNow) request.sent = this.send(frame)
    })
  }

  /** Sends the requests made while no connection was ready. */
  sendQueued(): void {
    const queued = [...this.requests.values()].filter((request) => !request.sent)
    for (const request of queued) request.sent = this.send(request.frame)
  }

  /** Whether a request is on the wire (it would fail with the connection). */
  anySent(): boolean {
    return [...this.requests.values()].some((request) => request.sent)
  }

  /** Settles request `id` with its answer; false when no such request waits (it timed out, or never was). */
  settle(id: string, outcome: RequestOutcome): boolean {
    const request = this.requests.get(id)
    if (request === undefined) return false
    this.requests.delete(id)
    clearTimeout(request.timer)
    if ('result' in outcome) request.resolve(outcome.result)
    else request.reject(outcome.error)
    return true
  }

  /** Rejects the requests sent on a lost connection (`onlySent`), or all of them when the client closes. */
  rejectAll(error: ParleyError, onlySent: boolean): void {
    for (const [id, request] of this.requests) {
      if (onlySent && !request.sent) continue
      this.settle(id, { error })
    }
  }
}
