import {
  betweenSides,
  type CapturedStep,
  type CaptureQuery,
  type CaptureRecord,
  type CaptureStore,
  captureFields,
  capturePageSize,
} from './capture-store.js'

export interface MemoryCaptureStoreOptions {
  /** Steps kept; the oldest are forgotten beyond this. */
  maxSteps?: number
}

/** Capture store in process memory (tests, gateways without a database), bounded in steps. */
export function createMemoryCaptureStore(options: MemoryCaptureStoreOptions = {}): CaptureStore {
  const maxSteps = Math.max(1, Math.trunc(options.maxSteps ?? 10_000))
  let steps: CapturedStep[] = []
  let lastId = 0

  const bySteps = (a: CapturedStep, b: CapturedStep) =>
    a.stepIndex - b.stepIndex || Number(a.id) - Number(b.id)

  return {
    async append(records: readonly CaptureRecord[]): Promise<void> {
      for (const record of records) {
        lastId += 1
        steps.push(toStep(String(lastId), record))
      }
      if (steps.length > maxSteps) steps = steps.slice(steps.length - maxSteps)
    },

    async exchange(correlationId: string): Promise<CapturedStep[]> {
      return steps.filter((step) => step.correlationId === correlationId).sort(bySteps)
    },

    async exchanges(query: CaptureQuery): Promise<CapturedStep[][]> {
      const requests = steps
        .filter(
          (step) =>
            step.step === 'request' &&
            betweenSides(step, query.a, query.b) &&
            (query.before === undefined || step.time < query.before),
        )
        .sort((x, y) => y.time.getTime() - x.time.getTime() || Number(y.id) - Number(x.id))
        .slice(0, capturePageSize(query.limit))
      return requests.map((request) =>
        steps.filter((step) => step.correlationId === request.correlationId).sort(bySteps),
      )
    },

    async prune(before: Date): Promise<number> {
      const kept = steps.filter((step) => step.time >= before)
      const removed = steps.length - kept.length
      steps = kept
      return removed
    },
  }
}

function toStep(id: string, record: CaptureRecord): CapturedStep {
  return { id, ...captureFields(record) }
}
