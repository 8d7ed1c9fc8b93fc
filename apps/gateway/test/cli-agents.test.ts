import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExternalAgent, startExternalAgent } from './support/a2a-external-agent.js'
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/test-gateway.js'

const run = promisify(execFile)
const gatewayRoot = fileURLToPath(new URL('..', import.meta.url))
const tsx = join(gatewayRoot, 'node_modules', '.bin', 'tsx')
const cli = join(gatewayRoot, 'src', 'cli.ts')
const UPSTREAM_TOKEN = 'cli-upstream-token-never-printed-42'

function parley(args: string[], env: Record<string, string> = {}) {
  const { PARLEY_ADMIN_TOKEN: _admin, ...inherited } = process.env
  return run(tsx, [cli, ...args], { cwd: gatewayRoot, env: { ...inherited, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  )
}

describe('parley agents add-a2a / list-a2a / remove-a2a', () => {
  let server: TestGateway
  let agent: ExternalAgent
  const adminEnv = { PARLEY_ADMIN_TOKEN: TEST_ADMIN_TOKEN }

  beforeAll(async () => {
    server = await startTestGateway()
    agent = await startExternalAgent({ name: 'cli-agent', skills: ['translate'] })
  })
  afterAll(async () => {
    await server.dispose()
    await agent.kill()
  })

  it('registers an external agent with a bearer token, lists it without the token, and removes it', async () => {
    const added = await parley(
      [
        'agents',
        'add-a2a',
        agent.url,
        '--agent-id',
        'translator',
        '--token-env',
        'TRANSLATOR_TOKEN',
        '--url',
        server.started.url,
      ],
      { ...adminEnv, TRANSLATOR_TOKEN: UPSTREAM_TOKEN },
    )
    expect(added.stderr).toBe('')
    expect(added.code).toBe(0)
    expect(added.stdout).toContain('External A2A agent translator (cli-agent)')
    expect(added.stdout).toContain('capabilities  translate')
    expect(added.stdout).toContain('credentials   bearer')
    expect(added.stdout).toContain(`up      ${agent.cardUrl}`)
    expect(agent.requests.at(-1)?.headers.authorization).toBe(`Bearer ${UPSTREAM_TOKEN}`)

    const listed = await parley(['agents', 'list-a2a', '--url', server.started.url], adminEnv)
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(new RegExp(`translator\\s+up:${agent.cardUrl}\\s+-\\s+bearer\\s+translate`))

    const duplicate = await parley(
      ['agents', 'add-a2a', agent.url, '--agent-id', 'translator', '--url', server.started.url],
      adminEnv,
    )
    expect(duplicate.code).toBe(1)
    expect(duplicate.stderr).toContain('conflict')

    const removed = await parley(
      ['agents', 'remove-a2a', 'translator', '--url', server.started.url],
      adminEnv,
    )
    expect(removed.code).toBe(0)
    expect(removed.stdout).toContain('Removed external A2A agent translator')
    const empty = await parley(['agents', 'list-a2a', '--url', server.started.url], adminEnv)
    expect(empty.stdout).toContain('No external A2A agents.')
    for (const output of [added, listed, duplicate, removed]) {
      expect(output.stdout + output.stderr).not.toContain(UPSTREAM_TOKEN)
      expect(output.stdout + output.stderr).not.toContain(TEST_ADMIN_TOKEN)
    }
  }, 60_000)

  it('passes --header as header credentials and refuses a malformed one', async () => {
    const bad = await parley(
      ['agents', 'add-a2a', agent.url, '--header', 'nonsense', '--url', server.started.url],
      adminEnv,
    )
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('expected Name:Value')
    const added = await parley(
      [
        'agents',
        'add-a2a',
        agent.cardUrl,
        '--agent-id',
        'keyed',
        '--header',
        'X-Api-Key:k-123',
        '--url',
        server.started.url,
      ],
      adminEnv,
    )
    expect(added.code).toBe(0)
    expect(added.stdout).toContain('credentials   header')
    expect(agent.requests.at(-1)?.headers['x-api-key']).toBe('k-123')
  }, 60_000)
})
