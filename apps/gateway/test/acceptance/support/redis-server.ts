import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { connect } from 'node:net'

/** A private `redis-server` on its own port that a test can kill and start again. */
export interface RedisServerProcess {
  readonly port: number
  readonly url: string
  /** SIGKILL: every connection drops at once. Resolves once it is gone. */
  kill(): Promise<void>
  /**
   * Starts it again on the same port (and directory): empty without persistence, or with every write it
   * acknowledged before the kill when it keeps an AOF.
   */
  restart(): Promise<void>
}

export interface RedisServerOptions {
  /**
   * Keep an append-only file in this directory, fsynced on every write (`appendfsync always`): a restart
   * reloads it, as an operator runs Redis as the store. Without it nothing is persisted.
   */
  aofDir?: string
}

/** Whether a `redis-server` binary is on the PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

export async function startRedisServer(
  port: number,
  options: RedisServerOptions = {},
): Promise<RedisServerProcess> {
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  const persistence =
    options.aofDir === undefined
      ? ['--appendonly', 'no']
      : ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.aofDir]

  const launch = async () => {
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence],
      {
        stdio: 'ignore',
      },
    )
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
    if (Date.now() > deadline)
      throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
