import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SESSION_COOKIE } from './session-cookie'
import { handleLogin, handleLogout } from './session-handlers'

const ADMIN_TOKEN = 'admin-token-123'
const AGENT_TOKEN = 'agent-token-456'
let gateway: Server
let gatewayUrl: string

// A real HTTP server standing in for the gateway's whoami endpoint.
beforeAll(async () => {
  gateway = createServer((request, response) => {
    const authorization = request.headers.authorization
    response.setHeader('content-type', 'application/json')
    if (authorization === `Bearer ${ADMIN_TOKEN}`) {
      response.end(JSON.stringify({ role: 'admin' }))
    } else if (authorization === `Bearer ${AGENT_TOKEN}`) {
      response.end(JSON.stringify({ role: 'agent' }))
    } else {
      response.statusCode = 401
      response.end(
        JSON.stringify({ error: { code: 'unauthorized', message: 'bad token', retryable: false } }),
      )
    }
  })
  gateway.listen(0, '127.0.0.1')
  await once(gateway, 'listening')
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`
})

afterAll(async () => {
  gateway.closeAllConnections()
  await new Promise<void>((resolve) => gateway.close(() => resolve()))
})

function loginRequest(token: string, headers: Record<string, string> = {}, base = 'http://127.0.0.1:3000') {
  return new Request(`${base}/api/session`, {
    method: 'POST',
    headers: {
      host: new URL(base).host,
      origin: base,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body: new URLSearchParams({ token }).toString(),
  })
}

describe('login (POST /api/session)', () => {
  it('keeps a valid admin token in an httpOnly SameSite=Strict cookie and redirects to /', async () => {
    const response = await handleLogin(loginRequest(` ${ADMIN_TOKEN} `), { env: { gatewayUrl } })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    const cookie = response.headers.get('set-cookie') ?? ''
    expect(cookie).toContain(`${SESSION_COOKIE}=${ADMIN_TOKEN}`)
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    expect(cookie).toMatch(/Path=\//)
    expect(cookie).not.toMatch(/Secure/i)
  })

  it('marks the cookie Secure when served over https behind a proxy', async () => {
    const request = loginRequest(ADMIN_TOKEN, { 'x-forwarded-proto': 'https' })
    const response = await handleLogin(request, { env: { gatewayUrl } })
    expect(response.headers.get('set-cookie')).toMatch(/Secure/i)
  })

  it('sends a refused token back to the login page without a cookie', async () => {
    const response = await handleLogin(loginRequest('wrong'), { env: { gatewayUrl } })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/login?error=invalid')
    expect(response.headers.get('set-cookie')).toBeNull()
  })

  it('refuses a token that is valid but not an admin token', async () => {
    const response = await handleLogin(loginRequest(AGENT_TOKEN), { env: { gatewayUrl } })
    expect(response.headers.get('location')).toBe('/login?error=not_admin')
    expect(response.headers.get('set-cookie')).toBeNull()
  })

  it('asks for a token when the form is empty', async () => {
    const response = await handleLogin(loginRequest('   '), { env: { gatewayUrl } })
    expect(response.headers.get('location')).toBe('/login?error=missing')
  })

  it('says the gateway is unreachable when it is', async () => {
    const response = await handleLogin(loginRequest(ADMIN_TOKEN), {
      env: { gatewayUrl: 'http://127.0.0.1:1' },
    })
    expect(response.headers.get('location')).toBe('/login?error=unreachable')
  })

  it('refuses a cross-site form post before calling the gateway', async () => {
    const forged = loginRequest(ADMIN_TOKEN, {
      origin: 'https://evil.example',
      'sec-fetch-site': 'cross-site',
    })
    const response = await handleLogin(forged, { env: { gatewayUrl: 'http://127.0.0.1:1' } })
    expect(response.status).toBe(403)
    expect(response.headers.get('set-cookie')).toBeNull()
  })
})

describe('logout', () => {
  it('clears the cookie and redirects to the login page', () => {
    const request = new Request('http://127.0.0.1:3000/api/session/logout', {
      method: 'POST',
      headers: { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' },
    })
    const response = handleLogout(request, 'redirect')
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/login')
    expect(response.headers.get('set-cookie')).toMatch(new RegExp(`${SESSION_COOKIE}=;.*Max-Age=0`, 'i'))
  })

  it('answers 204 to DELETE and refuses a cross-site logout', () => {
    const same = new Request('http://127.0.0.1:3000/api/session', { method: 'DELETE' })
    expect(handleLogout(same, 'no-content').status).toBe(204)
    const forged = new Request('http://127.0.0.1:3000/api/session', {
      method: 'DELETE',
      headers: { 'sec-fetch-site': 'cross-site' },
    })
    expect(handleLogout(forged, 'no-content').status).toBe(403)
  })
})
