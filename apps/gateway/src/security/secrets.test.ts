import { describe, expect, it } from 'vitest'
import { bearerToken, generateSecret, secretMatches, sha256 } from './secrets.js'

describe('secrets', () => {
  it('matches only the exact secret, including one of a different length', () => {
    const digest = sha256('correct horse')
    expect(secretMatches('correct horse', digest)).toBe(true)
    expect(secretMatches('correct hors', digest)).toBe(false)
    expect(secretMatches('correct horse battery', digest)).toBe(false)
    expect(secretMatches(undefined, digest)).toBe(false)
  })

  it('reads the token of a Bearer header and nothing else', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def')
    expect(bearerToken('bearer abc')).toBe('abc')
    expect(bearerToken('Basic abc')).toBeUndefined()
    expect(bearerToken(undefined)).toBeUndefined()
  })

  it('generates distinct 32-byte base64url secrets', () => {
    const a = generateSecret()
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(generateSecret()).not.toBe(a)
  })
})
