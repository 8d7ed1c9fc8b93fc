'use client'

import { useQuery } from '@tanstack/react-query'
import { browserQueries } from '@/lib/browser-api'
import { formatJson, formatUtc } from '@/lib/format'
import { describeFailure } from '@/lib/gateway-result'
import { describeAttempts, describeRequeues } from '@/lib/requeue-history'

/**
 * One dead letter as the gateway holds it, data included (the list may leave the data out). Everything is
 * text: the data is pretty-printed JSON inside a `<pre>`, so markup in a message shows literally.
 */
export function DeadLetterDetail({
  id,
  busy,
  stillListed,
  onRequeue,
  onClose,
}: {
  id: string
  busy: boolean
  stillListed: boolean
  onRequeue: () => void
  onClose: () => void
}) {
  const result = useQuery(browserQueries.deadLetter(id)).data
  const letter = result?.ok ? result.data : undefined

  return (
    <section className="detail-panel" data-testid="dlq-detail" aria-label={`Dead letter ${id}`}>
      <div className="section-head" style={{ marginTop: 0 }}>
        <h2>
          Dead letter <code data-testid="dlq-detail-id">{id}</code>
        </h2>
        <div className="row-actions">
          <button
            type="button"
            className="button small"
            disabled={busy || letter === undefined}
            onClick={onRequeue}
            data-testid="dlq-detail-requeue"
          >
            Requeue
          </button>
          <button
            type="button"
            className="button secondary small"
            onClick={onClose}
            data-testid="dlq-detail-close"
          >
            Close
          </button>
        </div>
      </div>
      {result === undefined ? <p className="muted">Loading…</p> : null}
      {result !== undefined && !result.ok ? (
        <div role="alert" className="banner banner-error" data-testid="dlq-detail-error">
          {result.failure.kind === 'http' && result.failure.status === 404
            ? 'This dead letter is no longer in the queue (requeued or purged).'
            : describeFailure(result.failure)}
        </div>
      ) : null}
      {letter === undefined ? null : (
        <>
          {stillListed ? null : (
            <p className="muted small">
              Not in the list shown any more: it may have been requeued or purged.
            </p>
          )}
          <dl className="facts">
            <dt>Message</dt>
            <dd className="mono">{letter.messageId}</dd>
            <dt>Kind</dt>
            <dd>{letter.kind}</dd>
            <dt>Recipient</dt>
            <dd className="mono" data-testid="dlq-detail-recipient">
              {letter.recipient}
            </dd>
            <dt>Source</dt>
            <dd className="mono" data-testid="dlq-detail-source">
              {letter.source}
            </dd>
            <dt>Channel</dt>
            <dd className="mono">{letter.channel ?? '—'}</dd>
            <dt>Attempts</dt>
            <dd data-testid="dlq-detail-attempts">{describeAttempts(letter)}</dd>
            <dt>Requeued</dt>
            <dd data-testid="dlq-detail-requeues">{describeRequeues(letter)}</dd>
            <dt>Reason</dt>
            <dd data-testid="dlq-detail-reason">{letter.reason}</dd>
            <dt>Last error</dt>
            <dd data-testid="dlq-detail-last-error">{letter.lastError ?? '—'}</dd>
            <dt>Created</dt>
            <dd data-testid="dlq-detail-created">{formatUtc(letter.createdAt)}</dd>
            <dt>Dead since</dt>
            <dd data-testid="dlq-detail-dead-at">{formatUtc(letter.deadAt)}</dd>
          </dl>
          <pre className="json" data-testid="dlq-detail-data">
            {formatJson(letter.data)}
          </pre>
        </>
      )}
    </section>
  )
}
