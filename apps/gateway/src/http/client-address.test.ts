import { describe, expect, it } from 'vitest'
import { createAddressMatcher, createForwardedAddressResolver, normaliseAddress } from './client-address.js'

describe('client address', () => {
  it('reads IPv4-mapped IPv6 addresses as IPv4', () => {
    expect(normaliseAddress('::ffff:10.1.2.3')).toBe('10.1.2.3')
    expect(normaliseAddress('::1')).toBe('::1')
  })

  it('matches addresses and CIDR blocks of both families', () => {
    const matches = createAddressMatcher(['10.0.0.0/8', '192.168.1.7', 'fd00::/8'])
    expect(matches('10.200.0.1')).toBe(true)
    expect(matches('11.0.0.1')).toBe(false)
    expect(matches('192.168.1.7')).toBe(true)
    expect(matches('192.168.1.8')).toBe(false)
    expect(matches('fd12::1')).toBe(true)
    expect(matches('not an address')).toBe(false)
  })

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const resolve = createForwardedAddressResolver([])
    expect(resolve('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9')
    expect(createForwardedAddressResolver(['10.0.0.0/8'])('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9')
  })

  it('takes the nearest untrusted hop of X-Forwarded-For from a trusted proxy, so a client cannot pick its own address', () => {
    const resolve = createForwardedAddressResolver(['10.0.0.0/8'])
    // The client wrote "1.1.1.1" itself; the proxy appended the address it saw.
    expect(resolve('::ffff:10.0.0.2', '1.1.1.1, 198.51.100.7')).toBe('198.51.100.7')
    expect(resolve('10.0.0.2', '198.51.100.7, 10.0.0.5')).toBe('198.51.100.7')
    expect(resolve('10.0.0.2', 'garbage')).toBe('10.0.0.2')
    expect(resolve('10.0.0.2', undefined)).toBe('10.0.0.2')
    expect(resolve(null, '198.51.100.7')).toBeNull()
  })
})
