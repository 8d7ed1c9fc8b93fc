/**
 * Coalesces concurrent calls into shared transactions: the first call starts one at once (after the
 * current microtask, so a synchronous burst travels together); calls made while it is in flight queue and
 * all go in the next one. Calls keep their order, each resolves with its own slice of the results once
 * its transaction committed, and a failed transaction rejects every call in it (the next one still runs).
 */
export interface GroupCommit<Input, Output> {
  submit(inputs: Input[]): Promise<Output[]>
  /** Waits for queued and in-flight calls; later calls are refused. */
  close(): Promise<void>
}

interface QueuedCall<Input, Output> {
  inputs: Input[]
  resolve(outputs: Output[]): void
  reject(error: unknown): void
}

export function createGroupCommit<Input, Output>(
  /** Runs one transaction over the inputs of several calls; returns one output per input, in order. */
  commit: (inputs: Input[]) => Promise<Output[]>,
  /** Inputs per transaction; a single larger call still goes alone, whole. */
  maxInputs: number,
): GroupCommit<Input, Output> {
  let queue: QueuedCall<Input, Output>[] = []
  let running: Promise<void> | undefined
  let closed = false

  function takeBatch(): QueuedCall<Input, Output>[] {
    let count = 0
    let taken = 0
    while (taken < queue.length) {
      const next = queue[taken] as QueuedCall<Input, Output>
      if (taken > 0 && count + next.inputs.length > maxInputs) break
      count += next.inputs.length
      taken += 1
    }
    const batch = queue.slice(0, taken)
    queue = queue.slice(taken)
    return batch
  }

  async function runBatch(batch: QueuedCall<Input, Output>[]): Promise<void> {
    const inputs =
      batch.length === 1
        ? (batch[0] as QueuedCall<Input, Output>).inputs
        : batch.flatMap((call) => call.inputs)
    let outputs: Output[]
    try {
      outputs = await commit(inputs)
      if (outputs.length !== inputs.length) throw new Error('group commit: one output per input expected')
    } catch (error) {
      for (const call of batch) call.reject(error)
      return
    }
    let start = 0
    for (const call of batch) {
      call.resolve(outputs.slice(start, start + call.inputs.length))
      start += call.inputs.length
    }
  }

  function start(): void {
    running ??= (async () => {
      // Lets the rest of a synchronous burst join the first transaction.
      await Promise.resolve()
      try {
        while (queue.length > 0) await runBatch(takeBatch())
      } finally {
        running = undefined
      }
    })()
  }

  return {
    submit(inputs: Input[]): Promise<Output[]> {
      if (closed) return Promise.reject(new Error('The store is closed: it takes no more writes.'))
      if (inputs.length === 0) return Promise.resolve([])
      return new Promise<Output[]>((resolve, reject) => {
        queue.push({ inputs, resolve, reject })
        start()
      })
    },

    async close(): Promise<void> {
      closed = true
      while (running !== undefined) await running
    },
  }
}
