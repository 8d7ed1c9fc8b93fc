import { describe, expect, it } from 'vitest'
import {
  clearedSessionCookieOptions,
  isHttpsRequest,
  MAX_TOKEN_LENGTH,
  normaliseSessionSecret,
  normaliseToken,
  SESSION_MAX_AGE_S,
  sessionCookieOptions,
} from './session-cookie'

describe('session cookie options', () => {
  it('are httpOnly, SameSite=Strict, site-wide and expiring', () => {
    expect(sessionCookieOptions(false)).toEqual({
      httpOnly: true,
      sameSite: 'strict',
      secure: false,
      path: '/',
      maxAge: SESSION_MAX_AGE_S,
    })
  })

  it('are Secure when served over https', () => {
    expect(sessionCookieOptions(true).secure).toBe(true)
  })

  it('clear the cookie with the same attributes and a zero max-age', () => {
    expect(clearedSessionCookieOptions(true)).toEqual({ ...sessionCookieOptions(true), maxAge: 0 })
  })
})

describe('isHttpsRequest', () => {
  it('follows the URL scheme when there is no proxy header', () => {
    expect(isHttpsRequest(new URL('https://dash.example.com/api/session'), new Headers())).toBe(true)
    expect(isHttpsRequest(new URL('http://127.0.0.1:3000/api/session'), new Headers())).toBe(false)
  })

  it('trusts the first X-Forwarded-Proto hop behind a TLS-terminating proxy', () => {
    const url = new URL('http://127.0.0.1:3000/api/session')
    expect(isHttpsRequest(url, new Headers({ 'x-forwarded-proto': 'https' }))).toBe(true)
    expect(isHttpsRequest(url, new Headers({ 'x-forwarded-proto': 'https, http' }))).toBe(true)
    expect(isHttpsRequest(url, new Headers({ 'x-forwarded-proto': 'http' }))).toBe(false)
  })
})

describe('normaliseToken', () => {
  it('trims surrounding whitespace from a pasted token', () => {
    expect(normaliseToken('  abc-123_XYZ.~  \n')).toBe('abc-123_XYZ.~')
  })

  it('refuses empty, non-string, oversized and cookie-breaking values', () => {
    expect(normaliseToken('')).toBeUndefined()
    expect(normaliseToken(undefined)).toBeUndefined()
    expect(normaliseToken(42)).toBeUndefined()
    expect(normaliseToken('a'.repeat(MAX_TOKEN_LENGTH + 1))).toBeUndefined()
    expect(normaliseToken('abc; Path=/evil')).toBeUndefined()
    expect(normaliseToken('a b')).toBeUndefined()
  })
})

describe('normaliseSessionSecret', () => {
  it('accepts only the shape of a gateway session secret, never a raw token', () => {
    const secret = `ps_${'a'.repeat(43)}`
    expect(normaliseSessionSecret(secret)).toBe(secret)
    expect(normaliseSessionSecret('admin-token-123')).toBeUndefined()
    expect(normaliseSessionSecret(`${secret}x`)).toBeUndefined()
    expect(normaliseSessionSecret(undefined)).toBeUndefined()
  })
})
