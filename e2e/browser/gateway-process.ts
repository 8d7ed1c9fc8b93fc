import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = resolve(fileURLToPath(new URL('../../apps/gateway/dist/cli.js', import.meta.url)))

export interface GatewayProcess {
  port: number
  url: string
  wsUrl: string
  /** Kills the process (SIGKILL: no shutdown frame, no close) and starts it again on the same port. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const address = server.address()
  await new Promise<void>((done) => server.close(() => done()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Resolves once the gateway logs that it listens; rejects if it exits first. */
function listening(child: ChildProcess): Promise<void> {
  return new Promise((done, fail) => {
    let seen = ''
    let stderr = ''
    const onData = (chunk: Buffer) => {
      seen += chunk.toString()
      if (seen.includes('gateway listening')) {
        child.stdout?.off('data', onData)
        child.off('exit', onExit)
        child.stdout?.resume()
        done()
      } else if (seen.length > 100_000) seen = seen.slice(-1_000)
    }
    const onExit = (code: number | null) => fail(new Error(`gateway exited with ${code}: ${stderr}`))
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000)
    })
    child.stdout?.on('data', onData)
    child.once('exit', onExit)
  })
}

/**
 * A gateway of its own for one test file, from the gateway's build, on an in-memory database, with the
 * browser origins it allows. It can be killed and started again on the same port.
 */
export async function startGatewayProcess(options: {
  allowedOrigins: string[]
  adminToken: string
}): Promise<GatewayProcess> {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-browser-'))
  let child: ChildProcess | undefined

  async function start(): Promise<void> {
    const started = spawn(
      process.execPath,
      [cli, 'serve', '--port', String(port), '--database-url', 'memory://', '--data-dir', dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          PARLEY_ALLOWED_ORIGINS: options.allowedOrigins.join(','),
          PARLEY_ADMIN_TOKEN: options.adminToken,
          PARLEY_LOG_LEVEL: 'info',
          NODE_ENV: 'production',
        },
      },
    )
    child = started
    await listening(started)
  }

  async function kill(): Promise<void> {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    const exited = new Promise<void>((done) => running.once('exit', () => done()))
    running.kill('SIGKILL')
    await exited
  }

  await start()
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    async restart() {
      await kill()
      await start()
    },
    async stop() {
      await kill()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
