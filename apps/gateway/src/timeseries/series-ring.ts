/** How a field of a sample step combines two writes to one step: counts add up, gauges keep the last. */
export type SlotMerge = 'sum' | 'last'

/**
 * A fixed number of sample steps of a few numeric fields, overwritten round-robin: memory is allocated once
 * (`capacity × fields` 32-bit floats, exact for counts below 2^24 per step). A step is addressed by its start
 * time; reading a step the ring no longer (or never) held gives undefined.
 */
export class SeriesRing {
  readonly stepMs: number
  readonly capacity: number
  readonly #merges: readonly SlotMerge[]
  readonly #starts: Float64Array
  readonly #values: Float32Array

  constructor(stepMs: number, capacity: number, merges: readonly SlotMerge[]) {
    this.stepMs = stepMs
    this.capacity = capacity
    this.#merges = merges
    this.#starts = new Float64Array(capacity).fill(Number.NaN)
    this.#values = new Float32Array(capacity * merges.length)
  }

  /** The start of the step holding `time`. */
  stepOf(time: number): number {
    return Math.floor(time / this.stepMs) * this.stepMs
  }

  /** Writes `values` (one per field) into the step starting at `start`, merging with what it holds. */
  write(start: number, values: ArrayLike<number>): void {
    const index = this.#indexOf(start)
    const width = this.#merges.length
    const offset = index * width
    const fresh = this.#starts[index] !== start
    this.#starts[index] = start
    for (let field = 0; field < width; field += 1) {
      const value = values[field] as number
      const at = offset + field
      this.#values[at] =
        fresh || this.#merges[field] === 'last' ? value : (this.#values[at] as number) + value
    }
  }

  /** The fields of the step starting at `start`, if the ring holds it. */
  read(start: number): number[] | undefined {
    const index = this.#indexOf(start)
    if (this.#starts[index] !== start) return undefined
    const width = this.#merges.length
    return Array.from(this.#values.subarray(index * width, (index + 1) * width))
  }

  #indexOf(start: number): number {
    const step = Math.floor(start / this.stepMs)
    return ((step % this.capacity) + this.capacity) % this.capacity
  }
}
