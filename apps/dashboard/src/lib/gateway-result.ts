import { z } from 'zod'

/**
 * What every call to the gateway resolves to. Failures are data, not exceptions: the result is plain JSON,
 * so a server-side prefetch that met an unreachable gateway is dehydrated and rendered like any answer,
 * and the same shape travels from the dashboard's `/api/gw/*` route handlers to the browser.
 */
export const GatewayFailure = z.discriminatedUnion('kind', [
  /** The gateway could not be reached (refused, DNS, timeout, TLS). */
  z.object({ kind: z.literal('unreachable'), url: z.string(), reason: z.string() }),
  /** The admin token is missing, wrong or revoked: the operator must log in again. */
  z.object({ kind: z.literal('unauthorized'), message: z.string() }),
  /** The gateway answered with an error envelope (or a non-2xx status without one). */
  z.object({
    kind: z.literal('http'),
    status: z.number(),
    code: z.string(),
    message: z.string(),
    /** How long to wait before trying again (429 `rate_limited`, 503 `unavailable`), when the gateway said. */
    retryAfterMs: z.number().optional(),
  }),
  /** The gateway answered 2xx with a body that does not match the protocol schema. */
  z.object({ kind: z.literal('invalid_response'), url: z.string(), reason: z.string() }),
  /** The browser could not reach the dashboard's own server. */
  z.object({ kind: z.literal('dashboard_unreachable'), reason: z.string() }),
])
export type GatewayFailure = z.infer<typeof GatewayFailure>

/**
 * Set on a kept answer when a later call failed: the data is the last good answer's (see `keepLastGood`),
 * `failure` says what went wrong since and `lastUpdatedAt` (epoch ms, when known) when the data arrived.
 */
export type Staleness = { failure: GatewayFailure; lastUpdatedAt?: number }

export type GatewayResult<T> =
  | { ok: true; data: T; stale?: Staleness; receivedAt?: number }
  | { ok: false; failure: GatewayFailure }

/** A failure to show on a page; `lastUpdatedAt` when the page still shows data from before it. */
export type PageFailure = GatewayFailure & { lastUpdatedAt?: number }

/** Schema of a `GatewayResult` whose data is parsed with `data` (a protocol schema). */
export function gatewayResultSchema<T>(data: z.ZodType<T>): z.ZodType<GatewayResult<T>> {
  return z.union([
    z.object({ ok: z.literal(true), data }),
    z.object({ ok: z.literal(false), failure: GatewayFailure }),
  ])
}

export function succeeded<T>(data: T): GatewayResult<T> {
  return { ok: true, data }
}

export function failed<T = never>(failure: GatewayFailure): GatewayResult<T> {
  return { ok: false, failure }
}

/**
 * The first failure among results (undefined ones are still loading), for a single banner per page. A kept
 * (stale) answer counts as failed: its failure comes with the time its data was last updated.
 */
export function firstFailure(
  ...results: ReadonlyArray<GatewayResult<unknown> | undefined>
): PageFailure | undefined {
  for (const result of results) {
    if (result === undefined) continue
    if (!result.ok) return result.failure
    if (result.stale !== undefined) {
      const { failure, lastUpdatedAt } = result.stale
      return lastUpdatedAt === undefined ? failure : { ...failure, lastUpdatedAt }
    }
  }
  return undefined
}

/** One line an operator can act on. */
export function describeFailure(failure: GatewayFailure): string {
  switch (failure.kind) {
    case 'unreachable':
      return `Gateway unreachable at ${failure.url}: ${failure.reason}`
    case 'unauthorized':
      return `The gateway refused the admin token (${failure.message}). Log in again.`
    case 'http':
      return `The gateway answered ${failure.status} ${failure.code}: ${failure.message}`
    case 'invalid_response':
      return `The gateway sent an unexpected answer for ${failure.url}: ${failure.reason}`
    case 'dashboard_unreachable':
      return `The dashboard server is unreachable: ${failure.reason}`
  }
}

/**
 * HTTP status of a `/api/gw/*` answer: 401 when the session must log in again, the gateway's own 4xx when
 * the request was refused as invalid, 502 when the gateway failed or could not be reached.
 */
export function httpStatusOf(result: GatewayResult<unknown>): number {
  if (result.ok) return 200
  const { failure } = result
  if (failure.kind === 'unauthorized') return 401
  if (failure.kind === 'http' && failure.status >= 400 && failure.status < 500) return failure.status
  return 502
}
