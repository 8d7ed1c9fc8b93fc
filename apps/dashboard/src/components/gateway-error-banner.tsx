'use client'

import { useEffect } from 'react'
import { describeFailure, type GatewayFailure } from '@/lib/gateway-result'

/**
 * The one way a page shows that the gateway could not answer. A refused token is not shown but sends the
 * operator to the login page (the route handler has already dropped the cookie).
 */
export function GatewayErrorBanner({ failure }: { failure: GatewayFailure | undefined }) {
  const unauthorized = failure?.kind === 'unauthorized'
  useEffect(() => {
    if (unauthorized) window.location.assign('/login?error=expired')
  }, [unauthorized])

  if (failure === undefined) return null
  return (
    <div role="alert" className="banner banner-error" data-testid="gateway-error">
      {describeFailure(failure)}
    </div>
  )
}
