import { generateKeyPairSync } from 'node:crypto'
import { PairingCheckResult, PROTOCOL_VERSION } from '@parley/protocol'
import { didKeyFromPublicKey } from '@parley/stores'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runParley } from './support/parley-cli.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/test-gateway.js'

const parley = (args: string[]) => runParley(args, { PARLEY_ADMIN_TOKEN: TEST_ADMIN_TOKEN })

describe('parley pairing and parley devices', () => {
  let server: TestGateway
  let connector: TestClient
  const url = () => ['--url', server.started.url]

  beforeAll(async () => {
    server = await startTestGateway({ authToken: 'shared-secret-token', allowAnonymous: false })
    const created = await server.tokens.create(
      { name: 'bot', role: 'connector', scopes: ['*:*'] },
      Date.now(),
    )
    connector = await TestClient.connect(server.started.wsUrl, { token: created.token })
  })
  afterAll(async () => {
    connector.close()
    await server.dispose()
  })

  async function pending(senderId: string) {
    return PairingCheckResult.parse(
      await connector.ok({
        type: 'pairing_check',
        channelType: 'telegram',
        senderId,
        displayName: `name ${senderId}`,
      }),
    )
  }

  it('lists pending requests, approves by code and by request id, denies and revokes', async () => {
    const byCode = await pending('100')
    const byId = await pending('200')
    const denied = await pending('300')

    const list = await parley(['pairing', 'list', ...url()])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain(byCode.requestId)
    expect(list.stdout).toContain('name 200')
    expect(list.stdout).not.toContain(byCode.code)

    const approved = await parley([
      'pairing',
      'approve',
      'telegram',
      byCode.code ?? '',
      '--sender',
      '100',
      ...url(),
    ])
    expect(approved).toMatchObject({ code: 0 })
    expect(approved.stdout).toContain('Approved 100 on telegram')
    expect(await server.pairing.isPaired('100', 'telegram')).toBe(true)

    const approvedById = await parley(['pairing', 'approve', '--request', byId.requestId ?? '', ...url()])
    expect(approvedById.code).toBe(0)
    expect(await server.pairing.isPaired('200', 'telegram')).toBe(true)

    const deny = await parley(['pairing', 'deny', denied.requestId ?? '', ...url()])
    expect(deny.code).toBe(0)
    expect(await server.pairing.listPending('telegram')).toEqual([])

    const revoke = await parley(['pairing', 'revoke', 'telegram', '100', ...url()])
    expect(revoke.code).toBe(0)
    expect(await server.pairing.isPaired('100', 'telegram')).toBe(false)

    const wrong = await parley(['pairing', 'approve', 'telegram', 'AAAAAAAA', ...url()])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('not_found')
  }, 60_000)

  it('lists, approves (with role and scopes) and denies device requests', async () => {
    async function device(name: string, agent?: { did: string; publicKey: string }) {
      const client = await TestClient.open(server.started.wsUrl)
      client.send({
        type: 'hello',
        id: 'h1',
        protocol: { min: 1, max: PROTOCOL_VERSION },
        ...(agent === undefined ? {} : { auth: { identity: agent.did } }),
        pairing: { device: { name }, ...(agent === undefined ? {} : { publicKey: agent.publicKey }) },
      })
      return { client, pending: await client.next('pairing_pending') }
    }
    const publicKey = String(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x)
    const agent = { did: didKeyFromPublicKey(Buffer.from(publicKey, 'base64url')), publicKey }
    const tablet = await device('tablet')
    const phone = await device('phone', agent)
    const list = await parley(['devices', 'list', ...url()])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain(tablet.pending.requestId)
    expect(list.stdout).toContain('phone')
    expect(list.stdout).toContain(agent.did)

    const approve = await parley([
      'devices',
      'approve',
      tablet.pending.requestId,
      '--role',
      'agent',
      '--scope',
      'subscribe:*',
      ...url(),
    ])
    expect(approve.code).toBe(0)
    expect(approve.stdout).toContain('tok_')
    expect(await tablet.client.next('welcome')).toMatchObject({
      principal: { role: 'agent', scopes: ['subscribe:*'] },
    })

    const deny = await parley(['devices', 'deny', phone.pending.requestId, ...url()])
    expect(deny.code).toBe(0)
    expect((await phone.client.waitClosed()).code).toBe(4009)
    tablet.client.close()
  }, 60_000)
})
