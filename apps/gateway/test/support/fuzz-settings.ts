import type { Parameters } from 'fast-check'

/**
 * The one place the fuzz suites read their settings: `FUZZ_RUNS` (cases per property; each property has a
 * small default so `pnpm test` stays quick) and `FUZZ_SEED` (replays a reported failure). `scripts/fuzz.sh`
 * sets a large `FUZZ_RUNS` for the long run.
 */
const runsOverride = positiveIntegerOf(process.env.FUZZ_RUNS, 'FUZZ_RUNS')
const seed = integerOf(process.env.FUZZ_SEED, 'FUZZ_SEED')

function integerOf(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text.trim() === '') return undefined
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`)
  return value
}

function positiveIntegerOf(text: string | undefined, name: string): number | undefined {
  const value = integerOf(text, name)
  if (value !== undefined && value < 1) throw new Error(`${name} must be at least 1, got ${value}`)
  return value
}

/** Cases a property runs: `FUZZ_RUNS` when set, else its own default. */
export function fuzzRuns(defaultRuns: number): number {
  return runsOverride ?? defaultRuns
}

/** How long before the test's timeout fast-check stops, so that it still reports the seed. */
const REPORT_MARGIN_MS = 10_000

/**
 * fast-check parameters of one property (`perRunMs` as given to `fuzzTimeoutMs`). A failure report carries
 * the seed and the counterexample; replay it with `FUZZ_SEED=<seed>`. A property still running shortly
 * before its test's timeout (a hang, or a shrink of slow runs) is stopped and reported as a failure with
 * its seed, instead of a bare test timeout that names no seed.
 */
export function fuzzParameters<T>(defaultRuns: number, perRunMs?: number): Parameters<T> {
  return {
    numRuns: fuzzRuns(defaultRuns),
    interruptAfterTimeLimit: fuzzTimeoutMs(defaultRuns, perRunMs) - REPORT_MARGIN_MS,
    markInterruptAsFailure: true,
    ...(seed === undefined ? {} : { seed }),
  }
}

/** A test timeout that grows with the number of cases (generous: the machine may be busy). */
export function fuzzTimeoutMs(defaultRuns: number, perRunMs = 250): number {
  return 60_000 + fuzzRuns(defaultRuns) * perRunMs
}
