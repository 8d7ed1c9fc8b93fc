import type { LookupAddress } from 'node:dns'
import { describe, expect, it } from 'vitest'
import {
  addressProblem,
  checkOutboundUrl,
  guardedLookup,
  OutboundUrlRefused,
  type ResolveAll,
} from './outbound-url.js'

const STRICT = { allowInsecureUrls: false, allowPrivateAddresses: false }

/** A resolver with fixed answers, so no test depends on the machine's DNS. */
function resolver(answers: Record<string, string[]>): ResolveAll {
  return async (hostname) => {
    const addresses = answers[hostname]
    if (addresses === undefined) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
}

async function refusal(url: string, resolve: ResolveAll = resolver({}), policy = STRICT) {
  const error = await checkOutboundUrl(url, policy, resolve).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error, url).toBeInstanceOf(OutboundUrlRefused)
  return (error as Error).message
}

describe('addressProblem', () => {
  it('accepts public IPv4 and IPv6 addresses', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450::1']) {
      expect(addressProblem(address), address).toBeUndefined()
    }
  })

  it('names the IPv4 blocks that are not public', () => {
    expect(addressProblem('127.0.0.1')).toBe('loopback')
    expect(addressProblem('127.255.255.254')).toBe('loopback')
    expect(addressProblem('10.0.0.1')).toBe('private (RFC 1918)')
    expect(addressProblem('172.16.0.1')).toBe('private (RFC 1918)')
    expect(addressProblem('172.31.255.255')).toBe('private (RFC 1918)')
    expect(addressProblem('172.32.0.1')).toBeUndefined()
    expect(addressProblem('192.168.1.1')).toBe('private (RFC 1918)')
    expect(addressProblem('169.254.169.254')).toBe('link-local')
    expect(addressProblem('0.0.0.0')).toMatch(/unspecified/)
    expect(addressProblem('100.64.0.1')).toMatch(/carrier-grade/)
    expect(addressProblem('224.0.0.1')).toBe('multicast')
    expect(addressProblem('255.255.255.255')).toMatch(/broadcast/)
  })

  it('names the IPv6 blocks that are not public', () => {
    expect(addressProblem('::1')).toBe('loopback')
    expect(addressProblem('::')).toBe('unspecified')
    expect(addressProblem('fc00::1')).toMatch(/unique local/)
    expect(addressProblem('fd12:3456::1')).toMatch(/unique local/)
    expect(addressProblem('fe80::1')).toBe('link-local')
    expect(addressProblem('fe80::1%eth0')).toBe('link-local')
    expect(addressProblem('febf::1')).toBe('link-local')
    expect(addressProblem('ff02::1')).toBe('multicast')
    expect(addressProblem('2001:db8::1')).toBe('documentation')
    expect(addressProblem('[::1]')).toBe('loopback')
  })

  it('judges IPv4-mapped, NAT64 and 6to4 addresses by the IPv4 address they carry', () => {
    expect(addressProblem('::ffff:127.0.0.1')).toBe('loopback')
    expect(addressProblem('::ffff:7f00:1')).toBe('loopback')
    expect(addressProblem('::ffff:10.1.2.3')).toBe('private (RFC 1918)')
    expect(addressProblem('::ffff:a9fe:a9fe')).toBe('link-local')
    expect(addressProblem('::ffff:8.8.8.8')).toBeUndefined()
    expect(addressProblem('64:ff9b::7f00:1')).toBe('loopback')
    expect(addressProblem('64:ff9b::808:808')).toBeUndefined()
    expect(addressProblem('2002:c0a8:0101::1')).toBe('private (RFC 1918)')
    expect(addressProblem('2002:0808:0808::1')).toBeUndefined()
    expect(addressProblem('::127.0.0.1')).toMatch(/IPv4-compatible/)
  })

  it('treats anything that is not an IP address as a problem', () => {
    expect(addressProblem('localhost')).toBe('not an IP address')
    expect(addressProblem('1.2.3')).toBe('not an IP address')
  })
})

describe('checkOutboundUrl', () => {
  it('accepts an https URL whose host resolves only to public addresses', async () => {
    const url = await checkOutboundUrl(
      'https://hooks.example.com/a2a?x=1',
      STRICT,
      resolver({ 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'] }),
    )
    expect(url.hostname).toBe('hooks.example.com')
  })

  it('refuses http, URLs with credentials and what is not a URL', async () => {
    expect(await refusal('http://hooks.example.com/')).toMatch(/must be https/)
    expect(await refusal('ftp://hooks.example.com/')).toMatch(/must be https/)
    expect(await refusal('https://user:pw@hooks.example.com/')).toMatch(/credentials/)
    expect(await refusal('not a url')).toMatch(/absolute URL/)
  })

  it('refuses loopback, private, link-local and unspecified literal hosts', async () => {
    for (const url of [
      'https://127.0.0.1/hook',
      'https://10.0.0.1/hook',
      'https://[::1]/hook',
      'https://169.254.169.254/',
      'https://0.0.0.0/',
      'https://[fd00::1]/',
      'https://[fe80::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:169.254.169.254]/',
    ]) {
      expect(await refusal(url), url).toMatch(/address/)
    }
  })

  it('sees through decimal, octal, hexadecimal and shortened IPv4 spellings', async () => {
    for (const url of [
      'https://2130706433/',
      'https://0177.0.0.1/',
      'https://0x7f.0.0.1/',
      'https://0x7f000001/',
      'https://127.1/',
      'https://017700000001/',
      'https://0xa9.0xfe.0xa9.0xfe/',
    ]) {
      expect(await refusal(url), url).toMatch(/(loopback|link-local) address/)
    }
  })

  it('refuses a host name that resolves to a private address, even among public ones', async () => {
    const resolve = resolver({
      'rebind.example': ['93.184.216.34', '127.0.0.1'],
      'inner.example': ['10.0.0.5'],
    })
    expect(await refusal('https://rebind.example/', resolve)).toMatch(/127\.0\.0\.1, a loopback address/)
    expect(await refusal('https://inner.example/', resolve)).toMatch(/private/)
    expect(await refusal('https://nowhere.example/', resolve)).toMatch(/does not resolve/)
  })

  it('lets the operator allow http and private addresses', async () => {
    const open = { allowInsecureUrls: true, allowPrivateAddresses: true }
    expect((await checkOutboundUrl('http://127.0.0.1:8080/hook', open)).port).toBe('8080')
    expect(await refusal('http://127.0.0.1/', resolver({}), { ...open, allowInsecureUrls: false })).toMatch(
      /https/,
    )
    expect(
      await refusal('http://127.0.0.1/', resolver({}), { ...open, allowPrivateAddresses: false }),
    ).toMatch(/loopback/)
  })
})

describe('guardedLookup', () => {
  function lookupOnce(
    policy: typeof STRICT,
    resolve: ResolveAll,
    options: { all?: boolean; family?: number } = {},
  ): Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[] }> {
    return new Promise((done) => {
      guardedLookup(policy, resolve)('hook.example', options, (error, address) => done({ error, address }))
    })
  }

  it('hands the connection the checked addresses, and refuses a name that turned private', async () => {
    const answers: Record<string, string[]> = { 'hook.example': ['93.184.216.34'] }
    const resolve = resolver(answers)
    expect(await lookupOnce(STRICT, resolve)).toEqual({ error: null, address: '93.184.216.34' })
    expect((await lookupOnce(STRICT, resolve, { all: true })).address).toEqual([
      { address: '93.184.216.34', family: 4 },
    ])
    // The DNS answer changes after the URL was checked: the connection is refused, not sent to it.
    answers['hook.example'] = ['127.0.0.1']
    const refused = await lookupOnce(STRICT, resolve)
    expect(refused.error).toBeInstanceOf(OutboundUrlRefused)
    expect(refused.error?.message).toMatch(/loopback/)
    expect((await lookupOnce({ ...STRICT, allowPrivateAddresses: true }, resolve)).address).toBe('127.0.0.1')
  })
})
