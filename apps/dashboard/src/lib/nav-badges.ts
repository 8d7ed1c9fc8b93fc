/**
 * The counts the navigation shows beside Pairing and Deliveries.
 *
 * Pairing: everyone waiting for a decision right now (chat senders + devices).
 * Deliveries: dead letters added since this browser last had the Deliveries page open. The baseline is the
 * queue's size when the operator last looked (kept in localStorage); a browser that never looked counts the
 * whole queue. While Deliveries is open the baseline follows the queue, so a requeue or purge there never
 * leaves a stale badge. A queue that shrank elsewhere (CLI) lowers the baseline with it.
 */
export const DEAD_LETTERS_SEEN_KEY = 'parley.deadLettersSeen'

export function pendingPairingCount(chatSenders: number | undefined, devices: number | undefined): number {
  return (chatSenders ?? 0) + (devices ?? 0)
}

/** New dead letters given the queue's size now and the size last seen (`null`: never looked). */
export function newDeadLetters(current: number, seen: number | null): number {
  return seen === null ? current : Math.max(0, current - seen)
}

/** The baseline to keep: the current size while looking, and never above the queue (it shrank elsewhere). */
export function nextDeadLettersSeen(current: number, seen: number | null, looking: boolean): number | null {
  if (looking) return current
  return seen === null ? null : Math.min(seen, current)
}

/** Reads a stored baseline; anything unreadable counts as never looked. */
export function parseSeen(stored: string | null): number | null {
  if (stored === null) return null
  const value = Number(stored)
  return Number.isInteger(value) && value >= 0 ? value : null
}
