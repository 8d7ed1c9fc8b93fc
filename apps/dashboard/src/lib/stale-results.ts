import { replaceEqualDeep } from '@tanstack/react-query'
import type { GatewayFailure, GatewayResult } from './gateway-result'

type AnyResult = GatewayResult<unknown>
type Pages = { pages: unknown[]; pageParams: unknown[] }

function isResult(value: unknown): value is AnyResult {
  return typeof value === 'object' && value !== null && 'ok' in value && typeof value.ok === 'boolean'
}

function isPages(value: unknown): value is Pages {
  return (
    typeof value === 'object' &&
    value !== null &&
    'pages' in value &&
    Array.isArray(value.pages) &&
    'pageParams' in value &&
    Array.isArray(value.pageParams)
  )
}

/** A good answer stamped with when it arrived, so a later failure can say how old the kept data is. */
function stamped(previous: unknown, next: AnyResult & { ok: true }, now: number): AnyResult {
  const { stale: _dropped, ...fresh } = next
  return replaceEqualDeep(previous, { ...fresh, receivedAt: now }) as AnyResult
}

/** The previous answer kept, marked stale by `failure`; its data keeps the time it was last updated. */
function keptAs(previous: AnyResult & { ok: true }, failure: GatewayFailure): AnyResult {
  const lastUpdatedAt = previous.stale?.lastUpdatedAt ?? previous.receivedAt
  return { ...previous, stale: lastUpdatedAt === undefined ? { failure } : { failure, lastUpdatedAt } }
}

/**
 * A failure to get an answer (gateway or dashboard down, a 5xx or 429, an answer that makes no sense), as
 * against an answer: a 404 says the thing is gone (a requeued dead letter, a forgotten A2A task) and a 401
 * that the session ended, and those must show.
 */
export function isOutage(failure: GatewayFailure): boolean {
  if (failure.kind === 'unauthorized') return false
  if (failure.kind === 'http') return failure.status >= 500 || failure.status === 429
  return true
}

function failureOf(pages: readonly unknown[]): GatewayFailure | undefined {
  for (const page of pages) if (isResult(page) && !page.ok) return page.failure
  return undefined
}

/**
 * The query cache's `structuralSharing`: failures are data (`GatewayResult`), so by default a failed refresh
 * would replace the rows with an error and tables would fall back to their empty state ("No dead letters").
 * Instead an outage (`isOutage`) after a good answer keeps that answer, marked `stale` with the failure and the time it
 * was last updated; a good answer is stamped with `receivedAt`. Infinite queries (`{ pages, pageParams }`)
 * keep all their previous pages when any page of a refresh failed. Anything else passes through.
 */
export function keepLastGood(previous: unknown, next: unknown, now: number = Date.now()): unknown {
  if (isResult(next)) {
    if (next.ok) return stamped(previous, next, now)
    return isResult(previous) && previous.ok && isOutage(next.failure) ? keptAs(previous, next.failure) : next
  }
  if (isPages(next)) {
    const failure = failureOf(next.pages)
    const before = isPages(previous) ? previous.pages : []
    const allGood = before.length > 0 && before.every((page) => isResult(page) && page.ok)
    if (failure !== undefined && isOutage(failure) && allGood && isPages(previous)) {
      const kept = before as Array<AnyResult & { ok: true }>
      return { pages: kept.map((page) => keptAs(page, failure)), pageParams: previous.pageParams }
    }
    return {
      pages: next.pages.map((page, index) =>
        isResult(page) && page.ok ? stamped(before[index], page, now) : page,
      ),
      pageParams: next.pageParams,
    }
  }
  return replaceEqualDeep(previous, next)
}
