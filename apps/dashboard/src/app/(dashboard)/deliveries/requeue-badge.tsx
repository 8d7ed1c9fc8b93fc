import type { DeadLetter } from '@parley/protocol/admin'
import { describeRequeues, requeueBadge } from '@/lib/requeue-history'

/** Under a dead letter's attempts: how often it was requeued (the full history in the title). */
export function RequeueBadge({ letter }: { letter: DeadLetter }) {
  const badge = requeueBadge(letter)
  if (badge === undefined) return null
  return (
    <div
      className="muted small nowrap"
      title={`Requeued ${describeRequeues(letter)}`}
      data-testid="dlq-requeues"
    >
      {badge}
    </div>
  )
}
