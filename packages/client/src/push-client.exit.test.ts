import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { useFixtures } from './test-support/fixtures.js'

const fixtures = useFixtures()
const source = fileURLToPath(new URL('./test-support/close-and-exit.ts', import.meta.url))
// Inside the package, so the one external import (`ws`) resolves from its node_modules.
const script = fileURLToPath(
  new URL('../node_modules/.cache/parley-client/close-and-exit.mjs', import.meta.url),
)

beforeAll(async () => {
  // The child runs plain Node: bundle the TypeScript sources (protocol included) into one ES module first.
  await build({
    entryPoints: [source],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['ws'],
    logLevel: 'warning',
  })
})

/** Resolves with the exit code and output, or rejects (and kills the child) when it is still alive after `timeoutMs`. */
function exitOf(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += String(chunk)
  })
  child.stderr?.on('data', (chunk) => {
    output += String(chunk)
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the process did not exit within ${timeoutMs} ms after close(); output: ${output}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

function runScenario(url: string, scenario: string): ChildProcess {
  return spawn(process.execPath, [script, url, scenario], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

describe('PushClient close() leaves nothing running', () => {
  it('lets the Node process exit on its own after close() with a request and a waitFor in flight', async () => {
    const server = await fixtures.server({ onRequest: (_connection, frame) => frame.type === 'publish' })
    const child = runScenario(server.url, 'busy')
    // The client's own timers (60 s) would hold it far longer than this.
    const { code, output } = await exitOf(child, 5_000)
    expect(output).toContain('closed in state closed')
    expect(code).toBe(0)
  }, 15_000)

  it('lets the Node process exit on its own after close() while waiting to reconnect', async () => {
    const server = await fixtures.server()
    const child = runScenario(server.url, 'reconnecting')
    await server.nextFrame((frame) => frame.type === 'subscribe' && frame.channel === 'news', 5_000)
    await server.stop()
    const { code, output } = await exitOf(child, 5_000)
    expect(output).toContain('closed in state closed')
    expect(code).toBe(0)
  }, 15_000)

  it('lets the Node process exit on its own after close() when the gateway never answers the close', async () => {
    const server = await fixtures.server()
    const child = runScenario(server.url, 'unresponsive')
    const { connection } = await server.nextFrame(
      (frame) => frame.type === 'subscribe' && frame.channel === 'go',
      5_000,
    )
    server.deliver('go', 'close now')
    // Stop reading: the client's close frame is never seen, so no close frame comes back.
    connection.socket.pause()
    const { code, output } = await exitOf(child, 5_000)
    expect(output).toContain('closed in state closed')
    expect(code).toBe(0)
  }, 15_000)

  it('lets the Node process exit on its own after close() once a dead link was dropped', async () => {
    const server = await fixtures.server({ heartbeatIntervalMs: 40 })
    const child = runScenario(server.url, 'silent')
    const first = await server.nextWelcomed(5_000)
    first.socket.pause()
    const { code, output } = await exitOf(child, 5_000)
    expect(output).toContain('closed in state closed')
    expect(code).toBe(0)
  }, 15_000)
})
