/**
 * Waiting on conditions without sleeping: the test's event listeners call `changed()` after they record
 * something, and every pending `until` re-checks its condition then.
 */
export interface Conditions {
  changed(): void
  until(condition: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void>
}

export function createConditions(): Conditions {
  const checks = new Set<() => void>()
  return {
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
  }
}
