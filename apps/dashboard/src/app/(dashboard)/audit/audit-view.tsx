'use client'

import type { AuditEvent } from '@parley/protocol/admin'
import { useInfiniteQuery } from '@tanstack/react-query'
import { AuditTable } from '@/components/audit-table'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { LoadMorePager } from '@/components/load-more-pager'
import { PausedBar, usePausedRows } from '@/components/reading-pause'
import { stalenessOf } from '@/components/stale-caption'
import { type AuditFilters, auditSearchParams } from '@/lib/audit-filters'
import { browserQueries } from '@/lib/browser-api'
import { firstFailure } from '@/lib/gateway-result'
import { AuditFilterForm } from './audit-filter-form'
import { AuditVerificationBadge } from './audit-verification-badge'

export function AuditView({
  filters,
  filterError,
}: {
  filters: AuditFilters
  filterError: string | undefined
}) {
  const trail = useInfiniteQuery(browserQueries.auditTrail(filters))
  const pages = trail.data?.pages ?? []
  const liveEvents: AuditEvent[] = pages.flatMap((page) => (page.ok ? page.data.events : []))
  const filtersKey = auditSearchParams(filters).toString()
  // Scrolling over the table or selecting in it pauses it; new filters show their rows at once.
  const { containerRef, paused, rows: events, newCount, resume } = usePausedRows(liveEvents, filtersKey)

  return (
    <section>
      <h1>Audit</h1>
      <AuditVerificationBadge />
      {/* Keyed by the URL's filters so back/forward navigation resets the inputs to what is shown. */}
      <AuditFilterForm key={filtersKey} filters={filters} />
      {filterError === undefined ? null : (
        <div role="alert" className="banner banner-warning" data-testid="audit-filter-error">
          Invalid filter, showing everything instead: {filterError}
        </div>
      )}
      <GatewayErrorBanner failure={firstFailure(...pages)} />
      <PausedBar
        paused={paused}
        newCount={newCount}
        noun={{ one: 'event', many: 'events' }}
        onResume={resume}
        testIdPrefix="audit"
      />
      <div ref={containerRef}>
        <AuditTable
          testId="audit-table"
          events={events}
          stale={stalenessOf(...pages)}
          emptyText={
            trail.isPending
              ? 'Loading…'
              : firstFailure(...pages) !== undefined
                ? 'Audit events unavailable.'
                : 'No audit events match these filters.'
          }
        />
      </div>
      <LoadMorePager
        hasNextPage={trail.hasNextPage}
        isFetchingNextPage={trail.isFetchingNextPage}
        onLoadMore={() => void trail.fetchNextPage()}
        testId="audit-load-more"
        shown={events.length}
        endText="End of the audit trail."
        summary={`${events.length} events shown · newest first · ${paused ? 'paused' : 'refreshes every 2 seconds'} · times in UTC`}
      />
    </section>
  )
}
