import { CLIENT_ADDRESS_HEADER, DASHBOARD_SECRET_HEADER } from '@parley/protocol'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { sha256 } from '../security/secrets.js'
import {
  createAddressMatcher,
  createClientAddressResolver,
  createForwardedAddressResolver,
  normaliseAddress,
} from './client-address.js'
import type { GatewayEnv } from './create-app.js'

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

describe('client address named by the dashboard', () => {
  const secret = 'dashboard-secret-for-the-unit-test-0123'
  function app(resolver: ReturnType<typeof createClientAddressResolver>) {
    const hono = new Hono<GatewayEnv>()
    hono.get('/', (c) => c.json(resolver(c)))
    return (headers: Record<string, string>) =>
      hono.request('/', { headers }, { incoming: { socket: { remoteAddress: '::ffff:10.0.0.9' } } as never })
  }

  it('believes the named browser address only with the dashboard secret, and says who relayed it', async () => {
    const call = app(
      createClientAddressResolver({ trustedProxies: [], dashboardSecretDigest: sha256(secret) }),
    )
    const named = { [CLIENT_ADDRESS_HEADER]: '198.51.100.7' }
    expect(await (await call({ ...named, [DASHBOARD_SECRET_HEADER]: secret })).json()).toEqual({
      address: '198.51.100.7',
      relayedBy: '10.0.0.9',
    })
    expect(await (await call(named)).json()).toEqual({ address: '10.0.0.9' })
    expect(await (await call({ ...named, [DASHBOARD_SECRET_HEADER]: 'wrong' })).json()).toEqual({
      address: '10.0.0.9',
    })
    const garbage = { [CLIENT_ADDRESS_HEADER]: 'not-an-ip', [DASHBOARD_SECRET_HEADER]: secret }
    expect(await (await call(garbage)).json()).toEqual({ address: '10.0.0.9' })
  })

  it('reports once when a dashboard presents a secret the gateway does not share', async () => {
    const mismatches: string[] = []
    const call = app(
      createClientAddressResolver({
        trustedProxies: [],
        dashboardSecretDigest: undefined,
        onSecretMismatch: () => mismatches.push('mismatch'),
      }),
    )
    const headers = { [CLIENT_ADDRESS_HEADER]: '198.51.100.7', [DASHBOARD_SECRET_HEADER]: secret }
    expect(await (await call(headers)).json()).toEqual({ address: '10.0.0.9' })
    await call(headers)
    expect(mismatches).toEqual(['mismatch'])
  })
})
