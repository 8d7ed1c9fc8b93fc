import type { TimeseriesCaller } from '@parley/protocol'

/** Minutes of callers kept per agent: the top callers are those of the last 15 minutes. */
export const CALLER_MINUTES = 15
/** Distinct callers counted per agent and minute; the rest are counted together as `*`. */
const MAX_CALLERS = 50
/** Callers listed per agent. */
export const TOP_CALLERS = 10
/** The name of callers past `MAX_CALLERS` (agent ids cannot contain `*`). */
export const OTHER_CALLERS = '*'

interface CallerCounts {
  requests: number
  errors: number
}

/** One agent's callers per minute, in a ring of `CALLER_MINUTES` maps (a caller `''` is a plain client). */
export class CallerMinutes {
  readonly #minutes: (number | undefined)[] = new Array(CALLER_MINUTES)
  readonly #counts: Map<string, CallerCounts>[] = Array.from({ length: CALLER_MINUTES }, () => new Map())

  add(caller: string, failed: boolean, now: number): void {
    const minute = Math.floor(now / 60_000)
    const index = minute % CALLER_MINUTES
    const counts = this.#counts[index] as Map<string, CallerCounts>
    if (this.#minutes[index] !== minute) {
      this.#minutes[index] = minute
      counts.clear()
    }
    const name = counts.has(caller) || counts.size < MAX_CALLERS ? caller : OTHER_CALLERS
    const entry = counts.get(name) ?? { requests: 0, errors: 0 }
    entry.requests += 1
    if (failed) entry.errors += 1
    counts.set(name, entry)
  }

  /** Counts per caller over the last `CALLER_MINUTES` minutes. */
  totals(now: number): Map<string, CallerCounts> {
    const current = Math.floor(now / 60_000)
    const totals = new Map<string, CallerCounts>()
    this.#counts.forEach((counts, index) => {
      const minute = this.#minutes[index]
      if (minute === undefined || current - minute >= CALLER_MINUTES) return
      for (const [caller, entry] of counts) addCounts(totals, caller, entry)
    })
    return totals
  }
}

function addCounts(totals: Map<string, CallerCounts>, caller: string, entry: CallerCounts): void {
  const total = totals.get(caller) ?? { requests: 0, errors: 0 }
  total.requests += entry.requests
  total.errors += entry.errors
  totals.set(caller, total)
}

/** The top callers of several nodes' counts together, most requests first (`''` becomes null). */
export function topCallers(perNode: readonly TimeseriesCaller[][]): TimeseriesCaller[] {
  const totals = new Map<string, CallerCounts>()
  for (const callers of perNode) {
    for (const { caller, ...entry } of callers) addCounts(totals, caller ?? '', entry)
  }
  return [...totals.entries()]
    .sort((a, b) => b[1].requests - a[1].requests || a[0].localeCompare(b[0]))
    .slice(0, TOP_CALLERS)
    .map(([caller, entry]) => ({ caller: caller === '' ? null : caller, ...entry }))
}

/** Every caller one node counted (at most 51), for the node that merges them. */
export function callersOf(minutes: CallerMinutes | undefined, now: number): TimeseriesCaller[] {
  if (minutes === undefined) return []
  return [...minutes.totals(now).entries()].map(([caller, entry]) => ({
    caller: caller === '' ? null : caller,
    ...entry,
  }))
}
