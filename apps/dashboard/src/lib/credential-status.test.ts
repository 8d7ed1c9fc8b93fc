import { describe, expect, it } from 'vitest'
import { credentialStatus } from './credential-status'

const NOW = Date.parse('2024-05-01T10:00:00.000Z')

describe('credentialStatus', () => {
  it('is active without revocation and before its expiry (or without one)', () => {
    expect(credentialStatus({ revokedAt: null, expiresAt: null }, NOW)).toBe('active')
    expect(credentialStatus({ revokedAt: null, expiresAt: '2024-05-01T10:00:01.000Z' }, NOW)).toBe('active')
    expect(credentialStatus({ revokedAt: null }, NOW)).toBe('active')
  })

  it('is expired from its expiry time on', () => {
    expect(credentialStatus({ revokedAt: null, expiresAt: '2024-05-01T10:00:00.000Z' }, NOW)).toBe('expired')
  })

  it('is revoked when revoked, even when it has also expired', () => {
    const revoked = { revokedAt: '2024-04-01T00:00:00.000Z', expiresAt: '2024-04-02T00:00:00.000Z' }
    expect(credentialStatus(revoked, NOW)).toBe('revoked')
  })
})
