import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { connect } from 'node:net'

/** A private `redis-server` on its own port, without persistence, that a test can kill and start again. */
export interface RedisServerProcess {
  readonly port: number
  readonly url: string
  /** SIGKILL: every connection drops at once, nothing is saved. Resolves once it is gone. */
  kill(): Promise<void>
  /** Starts it again on the same port (empty: nothing was persisted). */
  restart(): Promise<void>
}

/** Whether a `redis-server` binary is on the PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

export async function startRedisServer(port: number): Promise<RedisServerProcess> {
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()

  const launch = async () => {
    const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    })
    child = started
    exited = new Promise((resolve) => started.once('exit', () => resolve()))
    await waitForPort(port, 10_000)
  }

  await launch()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
    restart: launch,
  }
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
