import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreatedDashboardSession, CreatedToken, PairingCheckResult, PairingOverview } from '@parley/protocol'
import { createMemoryAuditLog } from '@parley/stores'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { createGateway, type Gateway } from '../src/create-gateway.js'
import { TestClient } from './support/test-client.js'
import { adminHeaders, TEST_ADMIN_TOKEN } from './support/test-gateway.js'

describe('default identity stores', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  /** No database URL: the default, embedded PGlite in `<dataDir>/data`. */
  async function startOn(dataDir: string): Promise<{ gateway: Gateway; url: string; wsUrl: string }> {
    const gateway = createGateway({
      config: parseConfig({
        port: 0,
        dataDir,
        authToken: 'shared-secret-token',
        pairing: { publicUrl: 'https://parley.example.com' },
      }),
      audit: createMemoryAuditLog(),
      adminToken: TEST_ADMIN_TOKEN,
      logger: pino({ level: 'silent' }),
    })
    const started = await gateway.start()
    cleanups.push(() => gateway.stop({ drainTimeoutMs: 500 }))
    return { gateway, url: started.url, wsUrl: started.wsUrl }
  }

  it("keeps API tokens in the gateway's database: a token created before a restart still authenticates after it", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-identity-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const first = await startOn(dataDir)
    const response = await fetch(`${first.url}/api/admin/tokens`, {
      method: 'POST',
      headers: { ...adminHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'durable', role: 'agent', scopes: ['subscribe:*'] }),
    })
    expect(response.status).toBe(201)
    const created = CreatedToken.parse(await response.json())
    await first.gateway.stop({ drainTimeoutMs: 500 })

    const second = await startOn(dataDir)
    const client = await TestClient.connect(second.wsUrl, { token: created.token })
    expect(client.frames[0]).toMatchObject({ principal: { id: created.info.id, role: 'agent' } })
    client.close()
  }, 60_000)

  it("keeps dashboard sessions in the gateway's database: a login survives a restart, a logged-out one stays out", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-identity-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const first = await startOn(dataDir)
    const open = async () => {
      const response = await fetch(`${first.url}/api/admin/sessions`, {
        method: 'POST',
        headers: adminHeaders(),
      })
      expect(response.status).toBe(201)
      return CreatedDashboardSession.parse(await response.json()).session
    }
    const kept = await open()
    const loggedOut = await open()
    const logout = await fetch(`${first.url}/api/admin/sessions/current`, {
      method: 'DELETE',
      headers: adminHeaders(loggedOut),
    })
    expect(logout.status).toBe(200)
    await first.gateway.stop({ drainTimeoutMs: 500 })

    const second = await startOn(dataDir)
    const whoami = (session: string) =>
      fetch(`${second.url}/api/admin/whoami`, { headers: adminHeaders(session) }).then((r) => r.status)
    expect(await whoami(kept)).toBe(200)
    expect(await whoami(loggedOut)).toBe(401)
  }, 60_000)

  it('keeps chat pairing requests and the pairing secret across a restart: an approval link from before still works', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-identity-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const first = await startOn(dataDir)
    const tokenResponse = await fetch(`${first.url}/api/admin/tokens`, {
      method: 'POST',
      headers: { ...adminHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bot', role: 'connector', scopes: ['*:*'] }),
    })
    const connectorToken = CreatedToken.parse(await tokenResponse.json()).token
    const connector = await TestClient.connect(first.wsUrl, { token: connectorToken })
    const pending = PairingCheckResult.parse(
      await connector.ok({ type: 'pairing_check', channelType: 'telegram', senderId: '48213377' }),
    )
    connector.close()
    await first.gateway.stop({ drainTimeoutMs: 500 })

    const second = await startOn(dataDir)
    const again = await TestClient.connect(second.wsUrl, { token: connectorToken })
    const repeat = PairingCheckResult.parse(
      await again.ok({ type: 'pairing_check', channelType: 'telegram', senderId: '48213377' }),
    )
    expect(repeat.code).toBe(pending.code)
    const link = `${second.url}${new URL(pending.approvalUrl ?? '').pathname}`
    expect((await fetch(link, { method: 'POST' })).status).toBe(200)
    expect(await again.next('pairing_resolved')).toMatchObject({ senderId: '48213377', status: 'approved' })
    const overview = PairingOverview.parse(
      await (await fetch(`${second.url}/api/admin/pairing`, { headers: adminHeaders() })).json(),
    )
    expect(overview.paired).toEqual([expect.objectContaining({ senderId: '48213377', approvedBy: 'link' })])
    again.close()
  }, 60_000)
})
