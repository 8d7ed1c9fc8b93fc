/**
 * Latency histogram fed with every delivery. Exact to the microsecond below ~1 ms, then buckets 1 % wide,
 * so percentiles come from all samples (not a subsample or an average) while memory stays fixed and the
 * histograms of several worker processes merge exactly.
 */
const LINEAR_LIMIT_US = 1024
const GROWTH = 1.01
const LOG_GROWTH = Math.log(GROWTH)
/** 1,024 linear buckets plus enough 1 % buckets to reach ~2 minutes; slower samples land in the last one. */
const BUCKET_COUNT = LINEAR_LIMIT_US + 1200

/** Sparse `[bucket, count]` pairs: what travels between processes and into the JSON results. */
export type HistogramPairs = Array<[number, number]>

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT)
  private total = 0

  /** Records one latency given in milliseconds. */
  record(latencyMs: number): void {
    const micros = latencyMs > 0 ? latencyMs * 1000 : 0
    const bucket =
      micros < LINEAR_LIMIT_US
        ? Math.floor(micros)
        : Math.min(
            BUCKET_COUNT - 1,
            LINEAR_LIMIT_US + Math.floor(Math.log(micros / LINEAR_LIMIT_US) / LOG_GROWTH),
          )
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1
    this.total++
  }

  get count(): number {
    return this.total
  }

  toPairs(): HistogramPairs {
    const pairs: HistogramPairs = []
    for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
      const count = this.counts[bucket] ?? 0
      if (count > 0) pairs.push([bucket, count])
    }
    return pairs
  }

  merge(pairs: HistogramPairs): void {
    for (const [bucket, count] of pairs) {
      if (bucket < 0 || bucket >= BUCKET_COUNT) continue
      this.counts[bucket] = (this.counts[bucket] ?? 0) + count
      this.total += count
    }
  }

  /** The latency in milliseconds at quantile `q` (0..1), or `undefined` when nothing was recorded. */
  quantile(q: number): number | undefined {
    if (this.total === 0) return undefined
    const rank = Math.max(1, Math.ceil(q * this.total))
    let seen = 0
    for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
      seen += this.counts[bucket] ?? 0
      if (seen >= rank) return bucketValueMs(bucket)
    }
    return bucketValueMs(BUCKET_COUNT - 1)
  }
}

/** A bucket's representative value: its midpoint (geometric midpoint for the 1 % buckets). */
function bucketValueMs(bucket: number): number {
  if (bucket < LINEAR_LIMIT_US) return (bucket + 0.5) / 1000
  return (LINEAR_LIMIT_US * GROWTH ** (bucket - LINEAR_LIMIT_US + 0.5)) / 1000
}
