import { describe, expect, it } from 'vitest'
import { scopeAllows, scopeAllowsBroadcast } from './scopes.js'

describe('scopeAllows', () => {
  it('matches a star against any run of characters, dots and slashes included', () => {
    expect(scopeAllows(['publish:alerts.*'], 'publish', 'alerts.disk')).toBe(true)
    expect(scopeAllows(['publish:alerts.*'], 'publish', 'alerts.disk.sda')).toBe(true)
    expect(scopeAllows(['publish:alerts.*'], 'publish', 'alerts')).toBe(false)
    expect(scopeAllows(['publish:alerts.*'], 'publish', 'xalerts.disk')).toBe(false)
    expect(scopeAllows(['subscribe:a*z'], 'subscribe', 'a/b/z')).toBe(true)
    expect(scopeAllows(['subscribe:*'], 'subscribe', 'anything:at@all')).toBe(true)
  })

  it('treats the pattern literally apart from the star', () => {
    expect(scopeAllows(['publish:a.b'], 'publish', 'aXb')).toBe(false)
    expect(scopeAllows(['publish:a$b'], 'publish', 'a$b')).toBe(true)
  })

  it('requires the action to match unless the scope action is a star', () => {
    expect(scopeAllows(['subscribe:x'], 'publish', 'x')).toBe(false)
    expect(scopeAllows(['*:x'], 'publish', 'x')).toBe(true)
    expect(scopeAllows(['*:*'], 'send', 'bob')).toBe(true)
    expect(scopeAllows(['send:agent-*'], 'send', 'agent-7')).toBe(true)
    expect(scopeAllows(['send:agent-*'], 'send', 'human-1')).toBe(false)
  })

  it('allows nothing with no scopes or malformed ones', () => {
    expect(scopeAllows([], 'publish', 'x')).toBe(false)
    expect(scopeAllows(['publish'], 'publish', 'publish')).toBe(false)
  })
})

describe('scopeAllowsBroadcast', () => {
  it('needs publish rights on every channel', () => {
    expect(scopeAllowsBroadcast(['publish:*'])).toBe(true)
    expect(scopeAllowsBroadcast(['*:*'])).toBe(true)
    expect(scopeAllowsBroadcast(['publish:alerts.*'])).toBe(false)
    expect(scopeAllowsBroadcast(['subscribe:*', 'send:*'])).toBe(false)
  })
})
