import type { PushClient, PushClientEvent, PushClientEvents } from '@parley/client'

/** Every payload of one PushClient event, with a way to wait (event-driven, with a deadline) for one to match. */
export interface EventLog<E extends PushClientEvent> {
  readonly items: Array<PushClientEvents[E]>
  /** Resolves with the first payload (already seen or coming) that matches, or rejects after `timeoutMs`. */
  waitFor(
    predicate: (payload: PushClientEvents[E]) => boolean,
    timeoutMs?: number,
  ): Promise<PushClientEvents[E]>
}

export function recordEvents<E extends PushClientEvent>(client: PushClient, event: E): EventLog<E> {
  const items: Array<PushClientEvents[E]> = []
  const waiters = new Set<(payload: PushClientEvents[E]) => void>()
  client.on(event, (payload) => {
    items.push(payload)
    for (const waiter of [...waiters]) waiter(payload)
  })
  return {
    items,
    waitFor(predicate, timeoutMs = 10_000) {
      const seen = items.find(predicate)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const waiter = (payload: PushClientEvents[E]) => {
          if (!predicate(payload)) return
          clearTimeout(timer)
          waiters.delete(waiter)
          resolve(payload)
        }
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`no matching "${event}" event within ${timeoutMs} ms`))
        }, timeoutMs)
        waiters.add(waiter)
      })
    },
  }
}

/** Polls `condition` every few milliseconds until it holds, or rejects after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
