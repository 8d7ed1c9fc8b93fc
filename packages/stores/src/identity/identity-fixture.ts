/**
 * What the identity behaviour suites need from an implementation: a store that is empty at the start of
 * each test. `T0` is the suites' clock; methods take `now` so no test waits on real time.
 */
export interface StoreFixture<Store> {
  store: Store
  /** Called after each test. */
  teardown(): Promise<void>
}

export const T0 = Date.parse('2025-03-01T12:00:00.000Z')
export const MINUTE = 60_000
export const HOUR = 3_600_000

/** Text that would break a page or a query if it were interpolated instead of stored as data. */
export const HOSTILE_NAMES = [
  '<img src=x onerror=alert(1)>',
  "Robert'); DROP TABLE api_tokens;--",
  '"quoted" \\ back\\slash % _ ; \u00e9\u{1F600}',
]
