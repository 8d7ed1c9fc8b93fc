'use client'

import type { DeadLetter } from '@parley/protocol/admin'
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { ConfirmButton } from '@/components/confirm-button'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { IdCell } from '@/components/id-cell'
import { LoadMorePager } from '@/components/load-more-pager'
import { browserApi, browserQueries } from '@/lib/browser-api'
import {
  type DeadLetterPages,
  deadLettersOf,
  purgedDeadLetterPages,
  withoutDeadLetter,
} from '@/lib/dead-letter-pages'
import { deliveryCounters, deliveryGauges } from '@/lib/delivery-stats'
import {
  type DeadLetterFilters,
  deadLetterSearchParams,
  describeDeadLetterFilters,
  hasNoFilter,
} from '@/lib/dlq-filters'
import { formatCount, formatDataPreview, formatUtc } from '@/lib/format'
import { describeFailure, firstFailure, type GatewayFailure } from '@/lib/gateway-result'
import { DEAD_LETTERS_KEY, DELIVERY_STATS_KEY } from '@/lib/queries'
import { DeadLetterDetail } from './dead-letter-detail'
import { DeadLetterFilterForm } from './dlq-filter-form'
import { RequeueBadge } from './requeue-badge'

type Notice = { tone: 'ok' | 'error'; text: string }

export function DeliveriesView({
  filters,
  filterError,
}: {
  filters: DeadLetterFilters
  filterError: string | undefined
}) {
  const queryClient = useQueryClient()
  const stats = useQuery(browserQueries.deliveryStats()).data
  const queue = useInfiniteQuery(browserQueries.deadLetters(filters))
  const pages = queue.data?.pages ?? []
  const deadLetters = deadLettersOf(pages)
  const statsData = stats?.ok ? stats.data : undefined
  const filtersKey = deadLetterSearchParams(filters).toString()

  const [inspected, setInspected] = useState<string | undefined>(undefined)
  const [notice, setNotice] = useState<Notice | undefined>(undefined)

  /** After any change: drop the row at once (when one went), then refetch the queue and the counters. */
  function refreshAfterChange(removedId?: string) {
    if (removedId !== undefined) {
      queryClient.setQueriesData<DeadLetterPages>({ queryKey: [...DEAD_LETTERS_KEY, 'list'] }, (data) =>
        data === undefined ? data : withoutDeadLetter(data, removedId),
      )
      queryClient.removeQueries({ queryKey: [...DEAD_LETTERS_KEY, 'one', removedId] })
      setInspected((current) => (current === removedId ? undefined : current))
    }
    void queryClient.invalidateQueries({ queryKey: DEAD_LETTERS_KEY })
    void queryClient.invalidateQueries({ queryKey: DELIVERY_STATS_KEY })
  }

  /** A dead letter someone else already requeued or purged is gone all the same. */
  function isGone(failure: GatewayFailure): boolean {
    return failure.kind === 'http' && failure.status === 404
  }

  const requeue = useMutation({
    mutationFn: (id: string) => browserApi.requeueDeadLetter(id),
    onSuccess: (result, id) => {
      if (result.ok) {
        setNotice({ tone: 'ok', text: `Requeued ${id}: it is pending again for its recipient.` })
        refreshAfterChange(id)
        return
      }
      setNotice({ tone: 'error', text: `Could not requeue ${id}. ${describeFailure(result.failure)}` })
      refreshAfterChange(isGone(result.failure) ? id : undefined)
    },
  })

  const purgeOne = useMutation({
    mutationFn: (id: string) => browserApi.purgeDeadLetter(id),
    onSuccess: (result, id) => {
      if (result.ok) {
        const text = result.data.purged === 0 ? `${id} was already gone.` : `Purged ${id}.`
        setNotice({ tone: 'ok', text })
        refreshAfterChange(id)
        return
      }
      setNotice({ tone: 'error', text: `Could not purge ${id}. ${describeFailure(result.failure)}` })
      refreshAfterChange(isGone(result.failure) ? id : undefined)
    },
  })

  const purgeAll = useMutation({
    mutationFn: (purgeFilters: DeadLetterFilters) => browserApi.purgeDeadLetters(purgeFilters),
    onSuccess: (result, purgeFilters) => {
      if (result.ok) {
        const { purged } = result.data
        queryClient.setQueryData(browserQueries.deadLetters(purgeFilters).queryKey, purgedDeadLetterPages())
        setNotice({
          tone: 'ok',
          text: `Purged ${formatCount(purged)} dead ${purged === 1 ? 'letter' : 'letters'}.`,
        })
        setInspected(undefined)
      } else {
        setNotice({ tone: 'error', text: `Could not purge. ${describeFailure(result.failure)}` })
      }
      refreshAfterChange()
    },
  })

  function isBusy(id: string): boolean {
    return (
      purgeAll.isPending ||
      (requeue.isPending && requeue.variables === id) ||
      (purgeOne.isPending && purgeOne.variables === id)
    )
  }

  const inspectedRow = deadLetters.find((letter) => letter.id === inspected)
  const purgeAllQuestion = hasNoFilter(filters)
    ? `Purge all ${formatCount(statsData?.deadLetters ?? null)} dead letters? This cannot be undone.`
    : `Purge every dead letter matching ${describeDeadLetterFilters(filters)}? This cannot be undone.`

  return (
    <section data-testid="deliveries-page">
      <h1>Deliveries</h1>
      <GatewayErrorBanner failure={firstFailure(stats, ...pages)} />

      <div className="cards">
        {deliveryGauges(statsData).map((figure) => (
          <div className="card" key={figure.name}>
            <h2>{figure.label}</h2>
            <p className="card-value" data-testid={`delivery-counter-${figure.name}`}>
              {formatCount(figure.value)}
            </p>
          </div>
        ))}
      </div>

      <div className="section-head">
        <h2>Since the gateway started</h2>
        <span className="muted small">
          Store <span data-testid="delivery-backend">{statsData?.backend ?? '—'}</span> · refreshes every 2
          seconds
        </span>
      </div>
      <dl className="counters">
        {deliveryCounters(statsData).map((figure) => (
          <div key={figure.name}>
            <dt>{figure.label}</dt>
            <dd data-testid={`delivery-counter-${figure.name}`}>{formatCount(figure.value)}</dd>
          </div>
        ))}
      </dl>

      <div className="section-head">
        <h2>Dead-letter queue</h2>
        <ConfirmButton
          label={hasNoFilter(filters) ? 'Purge all' : 'Purge all matching'}
          question={purgeAllQuestion}
          confirmLabel="Purge"
          disabled={purgeAll.isPending || deadLetters.length === 0}
          onConfirm={() => purgeAll.mutate(filters)}
          testId="dlq-purge-all"
        />
      </div>
      {/* Keyed by the URL's filters so back/forward navigation resets the inputs to what is shown. */}
      <DeadLetterFilterForm key={filtersKey} filters={filters} />
      {filterError === undefined ? null : (
        <div role="alert" className="banner banner-warning" data-testid="dlq-filter-error">
          Invalid filter, showing everything instead: {filterError}
        </div>
      )}
      {notice === undefined ? null : (
        <div
          role={notice.tone === 'error' ? 'alert' : 'status'}
          className={notice.tone === 'error' ? 'banner banner-error' : 'notice'}
          data-testid={notice.tone === 'error' ? 'dlq-action-error' : 'dlq-action-result'}
        >
          {notice.text}
        </div>
      )}

      {inspected === undefined ? null : (
        <DeadLetterDetail
          key={inspected}
          id={inspected}
          busy={isBusy(inspected)}
          onRequeue={() => requeue.mutate(inspected)}
          onClose={() => setInspected(undefined)}
          stillListed={inspectedRow !== undefined}
        />
      )}

      <DeadLetterTable
        deadLetters={deadLetters}
        inspected={inspected}
        isBusy={isBusy}
        onInspect={(id) => setInspected((current) => (current === id ? undefined : id))}
        onRequeue={(id) => requeue.mutate(id)}
        onPurge={(id) => purgeOne.mutate(id)}
        emptyText={
          queue.isPending
            ? 'Loading…'
            : firstFailure(...pages) !== undefined
              ? 'Dead letters unavailable.'
              : hasNoFilter(filters)
                ? 'No dead letters.'
                : 'No dead letters match these filters.'
        }
      />
      <LoadMorePager
        hasNextPage={queue.hasNextPage}
        isFetchingNextPage={queue.isFetchingNextPage}
        onLoadMore={() => void queue.fetchNextPage()}
        testId="dlq-load-more"
        shown={deadLetters.length}
        endText="End of the queue."
        summary={`${deadLetters.length} dead letters shown · newest first · refreshes every 2 seconds · times in UTC`}
      />
    </section>
  )
}

function Cell({ value }: { value: string | null }) {
  return value === null ? <span className="muted">—</span> : value
}

/** Dead letters; every value (recipient, source, errors, data) is rendered as text by React. */
function DeadLetterTable({
  deadLetters,
  inspected,
  isBusy,
  onInspect,
  onRequeue,
  onPurge,
  emptyText,
}: {
  deadLetters: readonly DeadLetter[]
  inspected: string | undefined
  isBusy: (id: string) => boolean
  onInspect: (id: string) => void
  onRequeue: (id: string) => void
  onPurge: (id: string) => void
  emptyText: string
}) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="dlq-table">
        <thead>
          <tr>
            <th>Dead at</th>
            <th>Kind</th>
            <th>Recipient</th>
            <th>Source</th>
            <th>Channel</th>
            <th className="num">Attempts</th>
            <th>Reason</th>
            <th>Last error</th>
            <th>Data</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {deadLetters.length === 0 ? (
            <tr>
              <td colSpan={10} className="empty">
                {emptyText}
              </td>
            </tr>
          ) : (
            deadLetters.map((letter) => {
              const busy = isBusy(letter.id)
              return (
                <tr
                  key={letter.id}
                  data-testid="dlq-row"
                  data-delivery-id={letter.id}
                  className={letter.id === inspected ? 'selected' : undefined}
                >
                  <td className="nowrap">{formatUtc(letter.deadAt)}</td>
                  <td>
                    <span className="tag">{letter.kind}</span>
                  </td>
                  <td>
                    <IdCell id={letter.recipient} />
                  </td>
                  <td>
                    <IdCell id={letter.source} />
                  </td>
                  <td className="mono">
                    <Cell value={letter.channel} />
                  </td>
                  <td className="num" data-testid="dlq-attempts">
                    {formatCount(letter.attempts)}
                    <RequeueBadge letter={letter} />
                  </td>
                  <td>{letter.reason}</td>
                  <td className="detail">
                    <Cell value={letter.lastError} />
                  </td>
                  <td className="detail mono">{formatDataPreview(letter.data)}</td>
                  <td>
                    <div className="row-actions">
                      <button
                        type="button"
                        className="button secondary small"
                        aria-expanded={letter.id === inspected}
                        onClick={() => onInspect(letter.id)}
                        data-testid="dlq-inspect"
                      >
                        {letter.id === inspected ? 'Hide' : 'Inspect'}
                      </button>
                      <button
                        type="button"
                        className="button small"
                        disabled={busy}
                        onClick={() => onRequeue(letter.id)}
                        data-testid="dlq-requeue"
                      >
                        Requeue
                      </button>
                      <ConfirmButton
                        label="Purge"
                        question="Purge it?"
                        confirmLabel="Purge"
                        disabled={busy}
                        small
                        onConfirm={() => onPurge(letter.id)}
                        testId="dlq-purge"
                      />
                    </div>
                  </td>
                </tr>
              )
            })
          )}
        </tbody>
      </table>
    </div>
  )
}
