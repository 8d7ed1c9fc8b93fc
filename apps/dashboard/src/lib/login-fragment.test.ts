import { describe, expect, it } from 'vitest'
import { tokenFromFragment } from './login-fragment'

describe('tokenFromFragment', () => {
  it('reads the token from the fragment printed by the gateway', () => {
    expect(tokenFromFragment('#token=abc123')).toBe('abc123')
    expect(tokenFromFragment('#other=1&token=a%2Fb')).toBe('a/b')
  })

  it('gives nothing when there is no token', () => {
    expect(tokenFromFragment('')).toBeUndefined()
    expect(tokenFromFragment('#token=')).toBeUndefined()
    expect(tokenFromFragment('#section')).toBeUndefined()
  })
})
