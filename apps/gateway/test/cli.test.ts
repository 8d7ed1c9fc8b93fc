import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createTestDatabase, type TestDatabase } from '@parley/stores/testing'
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

/**
 * Collects a child's stdout until every pattern has matched (in any order); rejects on timeout or exit. The
 * timeout is a hang guard: tsx compiling the CLI and PGlite opening its data dir take a minute on a loaded machine.
 */
function waitForOutput(child: ChildProcessWithoutNullStreams, patterns: RegExp[], timeoutMs = 120_000) {
  return new Promise<string>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(
      () => reject(new Error(`no match for ${patterns.join(', ')} in:\n${output}`)),
      timeoutMs,
    )
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (patterns.every((pattern) => pattern.test(output))) {
        clearTimeout(timer)
        child.stdout.off('data', onData)
        resolve(output)
      }
    }
    child.stdout.on('data', onData)
    child.once('exit', (code) =>
      reject(new Error(`exited with ${code} before ${patterns.join(', ')}:\n${output}`)),
    )
  })
}

describe('parley CLI', () => {
  let dataDir: string
  let child: ChildProcessWithoutNullStreams
  let banner: string
  let url: string
  let testDatabase: TestDatabase

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-cli-'))
    testDatabase = await createTestDatabase()
    const databaseArgs = testDatabase.url === undefined ? [] : ['--database-url', testDatabase.url]
    const args = [
      'serve',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--store-backend',
      'postgres',
      ...databaseArgs,
    ]
    child = spawn(tsx, [cli, ...args], {
      cwd: gatewayRoot,
      env: { ...process.env, PARLEY_LOG_LEVEL: 'info', PARLEY_DASHBOARD_URL: 'http://dash.example:3000' },
    })
    // The log line and the first-start banner go through different writers, so either may come first.
    const output = await waitForOutput(child, [
      /"msg":"gateway listening"[^\n]*\n/,
      /Gateway:\s+\S+\n/,
      /"msg":"delivery store open"/,
    ])
    banner = output
    url = /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1] ?? ''
  }, 180_000)

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dataDir, { recursive: true, force: true })
    await testDatabase.drop()
  })

  it('prints the generated admin token once with the dashboard login link, outside the JSON logs', () => {
    const token = /login#token=([A-Za-z0-9_-]{43})/.exec(banner)?.[1]
    expect(token).toBeDefined()
    expect(banner).toContain(`http://dash.example:3000/login#token=${token}`)
    const logLines = banner.split('\n').filter((line) => line.startsWith('{'))
    expect(logLines.length).toBeGreaterThan(0)
    for (const line of logLines) expect(line).not.toContain(token)
  })

  it('keeps deliveries and history in the database with --store-backend postgres', () => {
    expect(banner).toMatch(/"backend":"postgres"[^\n]*"msg":"delivery store open"/)
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

  it('drains and exits 0 on a SIGTERM that arrives while it is still starting', async () => {
    // tsx as a loader in the gateway's own process, not the tsx binary: the binary is a parent process that
    // relays signals and, on a busy machine, can exit 143 itself before its child reports its handlers.
    const starting = spawn(
      process.execPath,
      ['--import', 'tsx', cli, 'serve', '--port', '0', '--data-dir', dataDir, '--database-url', 'memory://'],
      {
        cwd: gatewayRoot,
        env: { ...process.env, PARLEY_LOG_LEVEL: 'info', PARLEY_ADMIN_TOKEN: 'cli-start-admin-token' },
      },
    )
    const exited = new Promise<number | null>((resolve) => starting.once('exit', (code) => resolve(code)))
    await waitForOutput(starting, [/"msg":"gateway starting"/])
    starting.kill('SIGTERM')
    expect(await exited).toBe(0)
  }, 60_000)

  it('prints the dashboard login address without a token when PARLEY_ADMIN_TOKEN is set', async () => {
    const adminToken = 'cli-configured-admin-token'
    const configured = spawn(
      process.execPath,
      ['--import', 'tsx', cli, 'serve', '--port', '0', '--data-dir', dataDir, '--database-url', 'memory://'],
      {
        cwd: gatewayRoot,
        env: {
          ...process.env,
          PARLEY_LOG_LEVEL: 'warn',
          PARLEY_ADMIN_TOKEN: adminToken,
          PARLEY_DASHBOARD_URL: 'http://dash.example:3000',
        },
      },
    )
    try {
      const output = await waitForOutput(configured, [/Dashboard login: [^\n]*\n/, /Gateway:\s+\S+\n/])
      expect(output).toContain('Dashboard login: http://dash.example:3000/login (log in with')
      expect(output).not.toContain('#token=')
      expect(output).not.toContain(adminToken)
    } finally {
      const exited = new Promise((resolve) => configured.once('exit', resolve))
      configured.kill('SIGTERM')
      await exited
    }
  }, 60_000)

  it('refuses an invalid option with a message naming it', async () => {
    const result = await parley(['serve', '--port', 'abc', '--store-backend', 'sqlite'], {
      PARLEY_MAX_CONNECTIONS: '-1',
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      'delivery.storeBackend (--store-backend or PARLEY_DELIVERY_STORE_BACKEND)',
    )
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
