import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const gatewayRoot = fileURLToPath(new URL('../../..', import.meta.url))
const exitWithParent = new URL('./exit-with-parent.ts', import.meta.url).href

export interface GatewayProcessOptions {
  port: number
  /** Extra `parley serve` flags. */
  args: string[]
  /** Extra environment (`PARLEY_*`). */
  env: Record<string, string>
  startTimeoutMs?: number
}

/** A gateway run as `node --import tsx src/cli.ts serve`, a real process the test can SIGKILL. */
export interface GatewayProcess {
  readonly pid: number
  /** The last lines it wrote, to explain a failure. */
  output(): string
  /** SIGKILL: no drain, no shutdown frame, open transactions die with it. Resolves once it is gone. */
  kill(): Promise<void>
}

/** A port that was free a moment ago; the gateway binds it on every (re)start. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Starts the gateway and resolves once it logged `gateway listening`; rejects if it exits first. */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', '--import', exitWithParent],
      ...['src/cli.ts', 'serve', '--host', '127.0.0.1', '--port', String(options.port), ...options.args],
    ],
    {
      // `--import tsx` resolves from the gateway package, which has tsx as a dev dependency.
      cwd: gatewayRoot,
      env: { ...process.env, PARLEY_LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  )
  const lines: string[] = []
  let listening: () => void = () => {}
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim().length === 0) continue
      if (line.includes('"msg":"gateway listening"')) listening()
      // Only the tail explains a failure; keep memory flat however much the gateway logs.
      lines.push(line)
      if (lines.length > 60) lines.shift()
    }
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const output = () => lines.join('\n')

  const timeoutMs = options.startTimeoutMs ?? 60_000
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not listening within ${timeoutMs} ms`)), timeoutMs)
      listening = () => {
        clearTimeout(timer)
        resolve()
      }
      void exited.then(() => {
        clearTimeout(timer)
        reject(new Error(`exited with ${child.exitCode ?? child.signalCode} before listening`))
      })
    })
  } catch (error) {
    child.kill('SIGKILL')
    await exited
    throw new Error(`gateway process did not start: ${(error as Error).message}\n${output()}`)
  }
  if (child.pid === undefined) throw new Error('gateway process has no pid')
  return {
    pid: child.pid,
    output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
