import { formatClockUtc } from '@/lib/display-format'
import type { GatewayResult, Staleness } from '@/lib/gateway-result'

/** The staleness of the first kept answer among results (a paged list's pages), if any. */
export function stalenessOf(
  ...results: ReadonlyArray<GatewayResult<unknown> | undefined>
): Staleness | undefined {
  for (const result of results) if (result?.ok === true && result.stale !== undefined) return result.stale
  return undefined
}

/** The caption of a table showing a kept answer: it is stale, and since when. */
export function StaleCaption({ stale, testId }: { stale: Staleness | undefined; testId: string }) {
  if (stale === undefined) return null
  return (
    <caption className="stale-caption" data-testid={`${testId}-stale`}>
      Stale: last updated{' '}
      {stale.lastUpdatedAt === undefined ? 'before the failure' : formatClockUtc(stale.lastUpdatedAt)}
    </caption>
  )
}
