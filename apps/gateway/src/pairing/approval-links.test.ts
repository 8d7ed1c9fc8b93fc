import { describe, expect, it } from 'vitest'
import { createApprovalLinks } from './approval-links.js'

describe('approval links', () => {
  const links = createApprovalLinks(new Uint8Array(32).fill(1))

  it('checks a link it signed and gives back the request id', () => {
    const token = links.sign('pair_abc', 2_000)
    expect(links.check(token, 1_000)).toEqual({ ok: true, requestId: 'pair_abc', expiresAt: 2_000 })
  })

  it('uses the full 32-byte HMAC', () => {
    const mac = links.sign('pair_abc', 2_000).split('.')[1] ?? ''
    expect(Buffer.from(mac, 'base64url')).toHaveLength(32)
  })

  it('refuses an expired link as expired, and links of another secret or altered payloads as forged', () => {
    const token = links.sign('pair_abc', 2_000)
    expect(links.check(token, 2_000)).toEqual({ ok: false, reason: 'expired' })
    const other = createApprovalLinks(new Uint8Array(32).fill(2))
    expect(other.check(token, 1_000)).toEqual({ ok: false, reason: 'forged' })
    const [, mac] = token.split('.')
    const altered = `${Buffer.from('pair_xyz.2000').toString('base64url')}.${mac}`
    expect(links.check(altered, 1_000)).toEqual({ ok: false, reason: 'forged' })
    expect(links.check('', 1_000)).toEqual({ ok: false, reason: 'forged' })
  })
})
