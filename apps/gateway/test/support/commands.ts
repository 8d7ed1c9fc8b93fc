import { execFileSync } from 'node:child_process'

/** Whether `command` is installed: it runs with `args` (a version flag) and exits 0. */
export function hasCommand(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
