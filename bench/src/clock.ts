/**
 * Milliseconds on the monotonic system clock. Every process on the machine reads the same
 * CLOCK_MONOTONIC, so a timestamp taken in the publisher process can be subtracted from one taken in a
 * subscriber process; `Date.now()` is too coarse and `performance.now()` has a per-process origin.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime()
  return seconds * 1000 + nanoseconds / 1e6
}
