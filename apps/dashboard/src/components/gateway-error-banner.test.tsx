// @vitest-environment happy-dom
import { act, cleanup, render, screen } from '@testing-library/react'
import { useState } from 'react'
import { afterEach, describe, expect, it } from 'vitest'
import type { PageFailure } from '@/lib/gateway-result'
import { BannerRegistryProvider } from './banner-registry'
import { GatewayErrorBanner } from './gateway-error-banner'

afterEach(cleanup)

const down: PageFailure = { kind: 'unreachable', url: 'http://gw', reason: 'connect ECONNREFUSED' }

let hideFirst: () => void = () => {}

function TwoSections({ second = down }: { second?: PageFailure }) {
  const [first, setFirst] = useState(true)
  hideFirst = () => setFirst(false)
  return (
    <BannerRegistryProvider>
      {first ? <GatewayErrorBanner failure={down} /> : null}
      <GatewayErrorBanner failure={second} />
    </BannerRegistryProvider>
  )
}

describe('GatewayErrorBanner', () => {
  it('says a failure met by two sections of a page once', () => {
    render(<TwoSections />)
    expect(screen.getAllByTestId('gateway-error')).toHaveLength(1)
  })

  it('shows the other section’s banner when the first one goes', () => {
    render(<TwoSections />)
    act(() => hideFirst())
    expect(screen.getAllByTestId('gateway-error')).toHaveLength(1)
  })

  it('says two different failures twice', () => {
    render(<TwoSections second={{ kind: 'http', status: 503, code: 'unavailable', message: 'draining' }} />)
    expect(screen.getAllByTestId('gateway-error')).toHaveLength(2)
  })

  it('says since when the data shown is, when the page kept it', () => {
    render(<GatewayErrorBanner failure={{ ...down, lastUpdatedAt: Date.UTC(2025, 4, 1, 22, 5, 9) }} />)
    expect(screen.getByTestId('gateway-error').textContent).toBe(
      'Gateway unreachable at http://gw: connect ECONNREFUSED Showing the data last updated 2025-05-01 22:05:09 UTC.',
    )
  })
})
