import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const gatewayRoot = fileURLToPath(new URL('..', import.meta.url))
const tsx = join(gatewayRoot, 'node_modules', '.bin', 'tsx')
const cli = join(gatewayRoot, 'src', 'cli.ts')

function parley(args: string[], env: Record<string, string> = {}) {
  return run(tsx, [cli, ...args], { cwd: gatewayRoot, env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  )
}

/** Collects a child's stdout and resolves once it matches, or rejects on timeout or exit. */
function waitForOutput(child: ChildProcessWithoutNullStreams, pattern: RegExp, timeoutMs = 60_000) {
  return new Promise<RegExpMatchArray>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`no match for ${pattern} in:\n${output}`)), timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = output.match(pattern)
      if (match) {
        clearTimeout(timer)
        child.stdout.off('data', onData)
        resolve(match)
      }
    }
    child.stdout.on('data', onData)
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ${pattern}:\n${output}`)))
  })
}

describe('parley CLI', () => {
  let dataDir: string
  let child: ChildProcessWithoutNullStreams
  let banner: string
  let url: string

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-cli-'))
    child = spawn(tsx, [cli, 'serve', '--port', '0', '--database-url', 'memory://', '--data-dir', dataDir], {
      cwd: gatewayRoot,
      env: { ...process.env, PARLEY_LOG_LEVEL: 'info', PARLEY_DASHBOARD_URL: 'http://dash.example:3000' },
    })
    // The first-start banner follows the "gateway listening" log line.
    const [output = ''] = await waitForOutput(
      child,
      /[\s\S]*"msg":"gateway listening"[\s\S]*Gateway:\s+\S+\n/,
    )
    banner = output
    url = /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1] ?? ''
  }, 90_000)

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dataDir, { recursive: true, force: true })
  })

  it('prints the generated admin token once with the dashboard login link, outside the JSON logs', () => {
    const token = /login#token=([A-Za-z0-9_-]{43})/.exec(banner)?.[1]
    expect(token).toBeDefined()
    expect(banner).toContain(`http://dash.example:3000/login#token=${token}`)
    const logLines = banner.split('\n').filter((line) => line.startsWith('{'))
    expect(logLines.length).toBeGreaterThan(0)
    for (const line of logLines) expect(line).not.toContain(token)
  })

  it('status prints the health of a running gateway', async () => {
    const result = await parley(['status', '--url', url])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/status\s+ok/)
    expect(result.stdout).toMatch(/connections\s+0/)
  })

  it('drains and exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('status exits non-zero when the gateway is unreachable', async () => {
    const result = await parley(['status', '--url', url])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('unreachable')
  })

  it('refuses an invalid option with a message naming it', async () => {
    const result = await parley(['serve', '--port', 'abc'], { PARLEY_MAX_CONNECTIONS: '-1' })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('port (--port or PARLEY_PORT)')
    expect(result.stderr).toContain('maxConnections (--max-connections or PARLEY_MAX_CONNECTIONS)')
  })

  it('refuses a non-loopback host without an auth token', async () => {
    const result = await parley([
      'serve',
      '--host',
      '0.0.0.0',
      '--database-url',
      'memory://',
      '--data-dir',
      dataDir,
    ])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('without an auth token')
  })
})
