import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { startTestUpstream, type TestUpstream } from './mcp/mcp-upstream-server.js'
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/test-gateway.js'

const run = promisify(execFile)
const gatewayRoot = fileURLToPath(new URL('..', import.meta.url))
const tsx = join(gatewayRoot, 'node_modules', '.bin', 'tsx')
const cli = join(gatewayRoot, 'src', 'cli.ts')

function parley(args: string[], env: Record<string, string> = {}) {
  const { PARLEY_ADMIN_TOKEN: _ignored, ...inherited } = process.env
  return run(tsx, [cli, ...args], { cwd: gatewayRoot, env: { ...inherited, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  )
}

describe('parley mcp', () => {
  let server: TestGateway
  let upstream: TestUpstream
  const upstreamToken = 'cli-upstream-token-5e2a'
  const adminEnv = { PARLEY_ADMIN_TOKEN: TEST_ADMIN_TOKEN }

  beforeAll(async () => {
    server = await startTestGateway({ mcpUpstreams: { retryInitial: 0.05, retryMax: 0.2 } })
    upstream = await startTestUpstream({
      tools: (mcp) => {
        mcp.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
          content: [{ type: 'text', text }],
        }))
      },
    })
  })
  afterAll(async () => {
    await upstream.stop()
    await server.dispose()
  })

  it('adds a server with a bearer token from the environment, lists it with its health and removes it, never printing the token', async () => {
    const url = server.started.url
    const added = await parley(
      ['mcp', 'add', 'echoes', upstream.url, '--token-env', 'UPSTREAM_TOKEN', '--url', url],
      {
        ...adminEnv,
        UPSTREAM_TOKEN: upstreamToken,
      },
    )
    expect(added.code).toBe(0)
    expect(added.stdout).toContain(`Registered MCP server echoes (${upstream.url}), credentials bearer`)
    expect(added.stdout).toContain('health  up')
    expect(added.stdout).toContain('tools   echoes__echo')
    expect(upstream.seenHeaders.at(-1)?.get('authorization')).toBe(`Bearer ${upstreamToken}`)

    const listed = await parley(['mcp', 'list', '--url', url], adminEnv)
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/NAME\s+STATE\s+TOOLS\s+CREDENTIALS\s+URL/)
    expect(listed.stdout).toMatch(new RegExp(`echoes\\s+up\\s+1\\s+bearer\\s+${upstream.url}`))

    const removed = await parley(['mcp', 'remove', 'echoes', '--url', url], adminEnv)
    expect(removed.code).toBe(0)
    expect(removed.stdout).toContain('Removed MCP server echoes')
    expect((await parley(['mcp', 'list', '--url', url], adminEnv)).stdout).toContain('No MCP servers.')
    for (const result of [added, listed, removed]) {
      expect(result.stdout + result.stderr).not.toContain(upstreamToken)
      expect(result.stdout + result.stderr).not.toContain(TEST_ADMIN_TOKEN)
    }
  }, 180_000)

  it('presents a --header credential, and names the problem for a bad name, two credentials, a duplicate or an unknown server', async () => {
    const url = server.started.url
    const added = await parley(
      ['mcp', 'add', 'keyed', upstream.url, '--header', 'X-Api-Key:k-123', '--url', url],
      adminEnv,
    )
    expect(added.code).toBe(0)
    expect(added.stdout).toContain('credentials header')
    expect(upstream.seenHeaders.at(-1)?.get('x-api-key')).toBe('k-123')

    const duplicate = await parley(['mcp', 'add', 'keyed', upstream.url, '--url', url], adminEnv)
    expect(duplicate.code).toBe(1)
    expect(duplicate.stderr).toContain('conflict')
    const badName = await parley(['mcp', 'add', 'Bad_Name', upstream.url, '--url', url], adminEnv)
    expect(badName.code).toBe(1)
    expect(badName.stderr).toContain('invalid MCP server: name')
    const both = await parley(
      ['mcp', 'add', 'x', upstream.url, '--token', 't', '--header', 'A:b', '--url', url],
      adminEnv,
    )
    expect(both.code).toBe(1)
    expect(both.stderr).toContain('pass one of --token, --token-env and --header')
    const badHeader = await parley(
      ['mcp', 'add', 'x', upstream.url, '--header', 'nocolon', '--url', url],
      adminEnv,
    )
    expect(badHeader.code).not.toBe(0)
    expect(badHeader.stderr).toContain('expected Name:Value')
    const unknown = await parley(['mcp', 'remove', 'nope', '--url', url], adminEnv)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('not_found')
    expect((await parley(['mcp', 'remove', 'keyed', '--url', url], adminEnv)).code).toBe(0)
  }, 180_000)
})
