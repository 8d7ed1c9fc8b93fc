'use client'

import { useEffect } from 'react'
import { useUniqueBanner } from '@/components/banner-registry'
import { formatClockUtc } from '@/lib/display-format'
import { describeFailure, type PageFailure } from '@/lib/gateway-result'

/**
 * The one way a page shows that the gateway could not answer: what failed and, when the page still shows
 * the last good data, since when that data is (the tables keep it, marked stale, rather than going empty).
 * The same failure met by several sections of a page is said once. A refused token is not shown but sends
 * the operator to the login page (the route handler has already dropped the cookie).
 */
export function GatewayErrorBanner({ failure }: { failure: PageFailure | undefined }) {
  const unauthorized = failure?.kind === 'unauthorized'
  useEffect(() => {
    if (unauthorized) window.location.assign('/login?error=expired')
  }, [unauthorized])
  const message = failure === undefined ? undefined : describeFailure(failure)
  const shown = useUniqueBanner(message)

  if (failure === undefined || !shown) return null
  return (
    <div role="alert" className="banner banner-error" data-testid="gateway-error">
      {message}
      {failure.lastUpdatedAt === undefined ? null : (
        <span data-testid="gateway-error-stale">
          {' '}
          Showing the data last updated {formatClockUtc(failure.lastUpdatedAt)}.
        </span>
      )}
    </div>
  )
}
