/**
 * Waiting on conditions without sleeping: the test's event listeners call `changed()` after they record
 * something, and every pending `until` re-checks its condition then.
 */
export interface Conditions {
  changed(): void
  until(condition: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void>
  /**
   * Like `until`, but the time limit is for a stall: it starts again whenever `progress()` changes, so a
   * loaded machine that is slowly getting there is not failed, and a stuck one still is.
   */
  untilStalled(
    condition: () => boolean,
    progress: () => number,
    stallMs: number,
    what: string | (() => string),
  ): Promise<void>
}

export function createConditions(): Conditions {
  const checks = new Set<() => void>()
  const conditions: Conditions = {
    changed() {
      for (const check of [...checks]) check()
    },
    until(condition, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const finish = () => {
          clearTimeout(timer)
          checks.delete(check)
        }
        const check = () => {
          let held: boolean
          try {
            held = condition()
          } catch (error) {
            finish()
            reject(error)
            return
          }
          if (held) {
            finish()
            resolve()
          }
        }
        const timer = setTimeout(() => {
          finish()
          const description = typeof what === 'string' ? what : what()
          reject(new Error(`${description} did not hold within ${timeoutMs} ms`))
        }, timeoutMs)
        checks.add(check)
        check()
      })
    },
    async untilStalled(condition, progress, stallMs, what) {
      for (;;) {
        const before = progress()
        try {
          await conditions.until(() => condition() || progress() !== before, stallMs, what)
        } catch (error) {
          if (error instanceof Error) error.message = `${error.message} (no progress for that long)`
          throw error
        }
        if (condition()) return
      }
    },
  }
  return conditions
}
