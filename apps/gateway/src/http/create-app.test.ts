import { describe, expect, it } from 'vitest'
import { loggablePath } from './create-app.js'

describe('loggablePath', () => {
  it('replaces the approval link token, and only it', () => {
    expect(loggablePath('/pairing/approve/cGFpcl8x.c2ln')).toBe('/pairing/approve/[redacted]')
    expect(loggablePath('/pairing/approve/cGFpcl8x.c2ln/extra')).toBe('/pairing/approve/[redacted]/extra')
    expect(loggablePath('/api/admin/pairing/requests/pair_1/approve')).toBe(
      '/api/admin/pairing/requests/pair_1/approve',
    )
    expect(loggablePath('/poll/send')).toBe('/poll/send')
  })
})
