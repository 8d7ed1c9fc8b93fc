import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const gatewayRoot = fileURLToPath(new URL('../..', import.meta.url))
const tsx = join(gatewayRoot, 'node_modules', '.bin', 'tsx')
const cli = join(gatewayRoot, 'src', 'cli.ts')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs the `parley` command (from source) as a user would, with the test's environment plus `env`; never the
 * caller's own `PARLEY_ADMIN_TOKEN`. Resolves with the exit code and output, whatever the code.
 */
export function runParley(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const { PARLEY_ADMIN_TOKEN: _ignored, ...inherited } = process.env
  return run(tsx, [cli, ...args], { cwd: gatewayRoot, env: { ...inherited, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: CliResult) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  )
}
