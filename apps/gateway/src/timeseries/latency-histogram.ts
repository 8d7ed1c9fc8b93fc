/**
 * Agent request latencies of one sample step, counted in fixed buckets (upper bounds in milliseconds; the
 * last is open). Counts of several steps or nodes add up bucket by bucket, so percentiles of a merged series
 * come from the merged counts, not from averaging the nodes' percentiles.
 */
export const LATENCY_BOUNDS_MS = [2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 10_000] as const
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1

/** The bucket a latency falls in. */
export function latencyBucket(ms: number): number {
  for (let index = 0; index < LATENCY_BOUNDS_MS.length; index += 1) {
    if (ms <= (LATENCY_BOUNDS_MS[index] as number)) return index
  }
  return LATENCY_BOUNDS_MS.length
}

/**
 * The `quantile` (0 to 1) of the counts, interpolated linearly inside its bucket; the open last bucket reads
 * as its lower bound. Undefined without any count.
 */
export function latencyQuantile(counts: ArrayLike<number>, quantile: number): number | undefined {
  let total = 0
  for (let index = 0; index < counts.length; index += 1) total += counts[index] as number
  if (total === 0) return undefined
  const rank = quantile * total
  let below = 0
  for (let index = 0; index < counts.length; index += 1) {
    const count = counts[index] as number
    if (count > 0 && below + count >= rank) {
      const lower = index === 0 ? 0 : (LATENCY_BOUNDS_MS[index - 1] as number)
      const upper = LATENCY_BOUNDS_MS[index]
      if (upper === undefined) return lower
      return lower + ((upper - lower) * (rank - below)) / count
    }
    below += count
  }
  return LATENCY_BOUNDS_MS.at(-1)
}
