import type { PushClient } from '../push-client.js'
import type { PushClientEvent, PushClientEvents } from '../push-client-types.js'

/** Resolves with the next `event` the client emits that matches, or rejects after `timeoutMs`. */
export function nextEvent<E extends PushClientEvent>(
  client: PushClient,
  event: E,
  predicate: (payload: PushClientEvents[E]) => boolean = () => true,
  timeoutMs = 2_000,
): Promise<PushClientEvents[E]> {
  return new Promise((resolve, reject) => {
    const listener = (payload: PushClientEvents[E]): void => {
      if (!predicate(payload)) return
      clearTimeout(timer)
      client.off(event, listener)
      resolve(payload)
    }
    const timer = setTimeout(() => {
      client.off(event, listener)
      reject(new Error(`no "${event}" event within ${timeoutMs} ms`))
    }, timeoutMs)
    client.on(event, listener)
  })
}

/** Collects every payload of `event` into an array, for asserting on sequences. */
export function record<E extends PushClientEvent>(client: PushClient, event: E): Array<PushClientEvents[E]> {
  const seen: Array<PushClientEvents[E]> = []
  client.on(event, (payload) => {
    seen.push(payload)
  })
  return seen
}
