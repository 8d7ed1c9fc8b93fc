import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runParley as parley } from './support/parley-cli.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/test-gateway.js'

describe('parley token', () => {
  let server: TestGateway
  const adminEnv = { PARLEY_ADMIN_TOKEN: TEST_ADMIN_TOKEN }

  beforeAll(async () => {
    server = await startTestGateway({ authToken: 'shared-secret-token' })
  })
  afterAll(async () => {
    await server.dispose()
  })

  it('creates a token through the admin API, prints its secret once, lists it without the secret and revokes it', async () => {
    const created = await parley(
      [
        'token',
        'create',
        '--url',
        server.started.url,
        '--name',
        'ci bot',
        '--role',
        'agent',
        '--scope',
        'publish:ci.*',
        '--scope',
        'subscribe:*',
        '--expires-in',
        '3600',
      ],
      adminEnv,
    )
    expect(created.code).toBe(0)
    const secret = /\b(pk_\S+)/.exec(created.stdout)?.[1] ?? ''
    const id = /Created token (tok_\S+)/.exec(created.stdout)?.[1] ?? ''
    expect(secret).not.toBe('')
    expect(created.stdout).toContain('scopes   publish:ci.* subscribe:*')
    expect(created.stdout).not.toContain(TEST_ADMIN_TOKEN)

    const client = await TestClient.connect(server.started.wsUrl, { token: secret })
    expect(client.frames[0]).toMatchObject({ principal: { id, role: 'agent' } })

    const listed = await parley(['token', 'list', '--url', server.started.url], adminEnv)
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+ci bot\\s+agent\\s+live`))
    expect(listed.stdout).not.toContain(secret)

    const revoked = await parley(['token', 'revoke', id, '--url', server.started.url], adminEnv)
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toContain(`Revoked token ${id}`)
    expect((await client.waitClosed()).code).toBe(4001)
    const relisted = await parley(['token', 'list', '--url', server.started.url], adminEnv)
    expect(relisted.stdout).toMatch(new RegExp(`${id}\\s+ci bot\\s+agent\\s+revoked`))
  }, 60_000)

  it('takes the admin token from --admin-token and never prints it, even when it is refused', async () => {
    const accepted = await parley([
      'token',
      'list',
      '--url',
      server.started.url,
      '--admin-token',
      TEST_ADMIN_TOKEN,
    ])
    expect(accepted.code).toBe(0)
    const refused = await parley([
      'token',
      'list',
      '--url',
      server.started.url,
      '--admin-token',
      'wrong-admin-token',
    ])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('unauthorized')
    expect(refused.stderr + refused.stdout).not.toContain('wrong-admin-token')
  }, 30_000)

  it('fails with a message naming the problem for a missing admin token, an unknown id or a bad role', async () => {
    const noToken = await parley(['token', 'list', '--url', server.started.url])
    expect(noToken.code).toBe(1)
    expect(noToken.stderr).toContain('PARLEY_ADMIN_TOKEN')
    const unknown = await parley(
      ['token', 'revoke', 'tok_AAAAAAAAAAAAAAAA', '--url', server.started.url],
      adminEnv,
    )
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('not_found')
    const badRole = await parley(
      ['token', 'create', '--url', server.started.url, '--name', 'x', '--role', 'overlord'],
      adminEnv,
    )
    expect(badRole.code).not.toBe(0)
    expect(badRole.stderr).toContain('expected one of admin, agent, client, connector')
  }, 30_000)
})
