import {
  CLIENT_ADDRESS_HEADER,
  CreatedDashboardSession,
  DASHBOARD_SECRET_HEADER,
  HttpError,
} from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { GatewayConfigInput } from '../src/config.js'
import { TestClient } from './support/test-client.js'
import { adminHeaders, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from './support/test-gateway.js'

const DASHBOARD_SECRET = 'dashboard-secret-for-the-lockout-tests-0123'

let server: TestGateway | undefined

afterEach(async () => {
  await server?.dispose()
  server = undefined
})

async function start(config: GatewayConfigInput = {}): Promise<string> {
  server = await startTestGateway({ authFailureLimit: 3, authFailureWindow: 60, ...config })
  return server.started.url
}

function whoami(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}/api/admin/whoami`, { headers })
}

/** What the dashboard server sends for a browser: its secret and the browser's address. */
function fromDashboard(browserAddress: string, token: string, secret = DASHBOARD_SECRET) {
  return {
    ...adminHeaders(token),
    [DASHBOARD_SECRET_HEADER]: secret,
    [CLIENT_ADDRESS_HEADER]: browserAddress,
  }
}

async function expectLockedOut(response: Response): Promise<void> {
  expect(response.status).toBe(429)
  const retryAfter = Number(response.headers.get('retry-after'))
  expect(retryAfter).toBeGreaterThan(0)
  expect(retryAfter).toBeLessThanOrEqual(60)
  const body = HttpError.parse(await response.json())
  expect(body.error).toMatchObject({ code: 'rate_limited', retryable: true })
  expect(body.error.retryAfterMs).toBeGreaterThan(0)
  expect(body.error.message).toMatch(/try again in \d+ s/)
}

describe('failed-auth limit keyed so one party cannot lock out another', () => {
  it('lets the admin token in from a host where a client keeps retrying a stale token', async () => {
    const url = await start()
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await whoami(url, adminHeaders('stale-token'))).status).toBe(401)
    }
    await expectLockedOut(await whoami(url, adminHeaders('stale-token')))
    expect((await whoami(url, adminHeaders())).status).toBe(200)
  })

  it('lets a WebSocket client with the right token in from a host where another keeps retrying a stale one', async () => {
    await start({ authToken: 'shared-secret-token' })
    const wsUrl = server?.started.wsUrl ?? ''
    for (let attempt = 0; attempt < 4; attempt++) {
      const stale = await TestClient.open(wsUrl)
      expect(await stale.hello({ token: 'stale-token' })).toMatchObject({ type: 'error' })
    }
    const limited = await TestClient.open(wsUrl)
    expect(await limited.hello({ token: 'stale-token' })).toMatchObject({
      code: 'rate_limited',
      retryAfterMs: expect.any(Number),
    })
    const good = await TestClient.open(wsUrl)
    expect(await good.hello({ token: 'shared-secret-token' })).toMatchObject({ type: 'welcome' })
    good.close()
  })

  it('still bounds guessing: after the limit of different wrong tokens, an address is refused, a never-used right one included', async () => {
    const url = await start()
    for (const guess of ['a', 'b', 'c']) expect((await whoami(url, adminHeaders(guess))).status).toBe(401)
    await expectLockedOut(await whoami(url, adminHeaders('d')))
    await expectLockedOut(await whoami(url, adminHeaders()))
  })

  it('keeps a credential that worked before working from an address locked by guesses', async () => {
    const url = await start()
    expect((await whoami(url, adminHeaders())).status).toBe(200)
    for (const guess of ['a', 'b', 'c', 'd']) await whoami(url, adminHeaders(guess))
    await expectLockedOut(await whoami(url, adminHeaders('e')))
    expect((await whoami(url, adminHeaders())).status).toBe(200)
  })

  it('counts wrong logins per browser when the dashboard names the browser with its secret', async () => {
    const url = await start({ dashboardSecret: DASHBOARD_SECRET })
    for (const guess of ['a', 'b', 'c']) {
      expect((await whoami(url, fromDashboard('198.51.100.1', guess))).status).toBe(401)
    }
    await expectLockedOut(await whoami(url, fromDashboard('198.51.100.1', 'd')))
    // Another browser behind the same dashboard server logs in with the right token.
    const login = await fetch(`${url}/api/admin/sessions`, {
      method: 'POST',
      headers: { ...fromDashboard('198.51.100.2', TEST_ADMIN_TOKEN), 'content-type': 'application/json' },
      body: JSON.stringify({ userAgent: 'second browser' }),
    })
    expect(login.status).toBe(201)
    expect(CreatedDashboardSession.parse(await login.json()).info.address).toBe('198.51.100.2')
  })

  it('ignores a named browser address without the right dashboard secret, so a caller cannot pick its address', async () => {
    const url = await start({ dashboardSecret: DASHBOARD_SECRET })
    const wrongSecret = 'x'.repeat(DASHBOARD_SECRET.length)
    for (let guess = 0; guess < 3; guess++) {
      const headers = fromDashboard(`198.51.100.${guess}`, `guess-${guess}`, wrongSecret)
      expect((await whoami(url, headers)).status).toBe(401)
    }
    await expectLockedOut(await whoami(url, fromDashboard('198.51.100.50', 'guess-x', wrongSecret)))
    await expectLockedOut(
      await whoami(url, { ...adminHeaders('guess-y'), [CLIENT_ADDRESS_HEADER]: '198.51.100.51' }),
    )
  })

  it('believes X-Forwarded-For only from a configured trusted proxy', async () => {
    const trusted = await start({ trustedProxies: ['127.0.0.1', '::1'] })
    for (const guess of ['a', 'b', 'c']) {
      await whoami(trusted, { ...adminHeaders(guess), 'x-forwarded-for': '198.51.100.1' })
    }
    await expectLockedOut(await whoami(trusted, { ...adminHeaders('d'), 'x-forwarded-for': '198.51.100.1' }))
    expect((await whoami(trusted, { ...adminHeaders('e'), 'x-forwarded-for': '198.51.100.2' })).status).toBe(
      401,
    )
    await server?.dispose()

    const untrusted = await start()
    for (const guess of ['a', 'b', 'c']) {
      await whoami(untrusted, {
        ...adminHeaders(guess),
        'x-forwarded-for': `198.51.100.${guess.charCodeAt(0)}`,
      })
    }
    await expectLockedOut(
      await whoami(untrusted, { ...adminHeaders('e'), 'x-forwarded-for': '198.51.100.2' }),
    )
  })

  it('counts WebSocket clients behind a trusted proxy by their X-Forwarded-For address', async () => {
    await start({ authToken: 'shared-secret-token', trustedProxies: ['127.0.0.1', '::1'] })
    const wsUrl = server?.started.wsUrl ?? ''
    const behind = (address: string) => TestClient.open(wsUrl, { headers: { 'x-forwarded-for': address } })
    for (const guess of ['a', 'b', 'c']) {
      expect(await (await behind('198.51.100.1')).hello({ token: guess })).toMatchObject({
        code: 'unauthorized',
      })
    }
    expect(await (await behind('198.51.100.1')).hello({ token: 'd' })).toMatchObject({ code: 'rate_limited' })
    expect(await (await behind('198.51.100.2')).hello({ token: 'e' })).toMatchObject({ code: 'unauthorized' })
  })
})
