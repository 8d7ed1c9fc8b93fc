import { NextRequest } from 'next/server'
import { describe, expect, it } from 'vitest'
import { SESSION_COOKIE } from './lib/session-cookie'
import { proxy } from './proxy'

const SESSION = `ps_${'s'.repeat(43)}`

function request(path: string, cookie?: string): NextRequest {
  return new NextRequest(`http://127.0.0.1:3000${path}`, {
    headers: cookie === undefined ? {} : { cookie: `${SESSION_COOKIE}=${cookie}` },
  })
}

function scriptSrcOf(policy: string | null): string | undefined {
  return policy
    ?.split(';')
    .map((directive) => directive.trim())
    .find((directive) => directive.startsWith('script-src '))
}

describe('proxy', () => {
  it('gives every page a CSP whose script-src allows only scripts with a fresh nonce', () => {
    const first = proxy(request('/', SESSION)).headers.get('content-security-policy')
    const second = proxy(request('/login')).headers.get('content-security-policy')
    const scriptSrc = scriptSrcOf(first)
    expect(scriptSrc).toMatch(/^script-src 'self' 'nonce-[A-Za-z0-9+/=]{24}' 'strict-dynamic'$/)
    expect(scriptSrcOf(second)).not.toBe(scriptSrc)
    expect(first).toContain("object-src 'none'")
    expect(first).toContain("frame-ancestors 'none'")
    expect(first).not.toContain('unsafe-eval')
  })

  it('hands the same policy to Next.js on the request, so it can put the nonce on its scripts', () => {
    const response = proxy(request('/access', SESSION))
    const policy = response.headers.get('content-security-policy')
    expect(policy).toMatch(/'nonce-/)
    expect(response.headers.get('x-middleware-request-content-security-policy')).toBe(policy)
  })

  it('sends a page without a session cookie to the login page and answers 401 for /api/gw', async () => {
    const page = proxy(request('/access'))
    expect(page.status).toBe(307)
    expect(new URL(page.headers.get('location') ?? '').pathname).toBe('/login')
    const api = proxy(request('/api/gw/tokens'))
    expect(api.status).toBe(401)
    expect(await api.json()).toMatchObject({ ok: false, failure: { kind: 'unauthorized' } })
  })

  it('lets the login page and the session routes through without a session', () => {
    expect(proxy(request('/login')).headers.get('x-middleware-next')).toBe('1')
    expect(proxy(request('/api/session')).headers.get('x-middleware-next')).toBe('1')
  })

  it('lets the health check through without a session, and nothing that only starts like it', () => {
    expect(proxy(request('/api/health')).headers.get('x-middleware-next')).toBe('1')
    expect(proxy(request('/api/healthz')).status).toBe(401)
  })
})
