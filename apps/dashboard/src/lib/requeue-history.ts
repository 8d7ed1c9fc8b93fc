import type { DeadLetter } from '@parley/protocol/admin'
import { formatCount, formatUtc } from './format'

/** `requeued 2×`, or undefined for a dead letter that was never requeued. */
export function requeueBadge(letter: Pick<DeadLetter, 'requeues'>): string | undefined {
  return letter.requeues > 0 ? `requeued ${formatCount(letter.requeues)}×` : undefined
}

/** `2 times, last 2024-05-01 10:31:00 UTC`, or `never`. */
export function describeRequeues(letter: Pick<DeadLetter, 'requeues' | 'requeuedAt'>): string {
  if (letter.requeues === 0) return 'never'
  const times = letter.requeues === 1 ? 'once' : `${formatCount(letter.requeues)} times`
  return letter.requeuedAt === null ? times : `${times}, last ${formatUtc(letter.requeuedAt)}`
}

/** `9 in all, 3 since the last requeue`, or just the count for a dead letter never requeued. */
export function describeAttempts(
  letter: Pick<DeadLetter, 'attempts' | 'requeues' | 'attemptsThisLife'>,
): string {
  if (letter.requeues === 0 || letter.attemptsThisLife === undefined) return formatCount(letter.attempts)
  return `${formatCount(letter.attempts)} in all, ${formatCount(letter.attemptsThisLife)} since the last requeue`
}
