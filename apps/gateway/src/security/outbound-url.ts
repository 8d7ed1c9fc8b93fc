import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { isIP, isIPv4, isIPv6 } from 'node:net'

/**
 * The guard against server-side request forgery for URLs a caller gives the gateway to call (A2A push
 * webhooks): only https, and only hosts whose every address is public, unless the operator allows more.
 * A URL is checked when it is registered and again at each request, where `guardedLookup` makes the
 * connection use exactly the addresses it checked (a DNS answer that changes in between, "DNS rebinding",
 * cannot slip a private address in).
 */

export interface OutboundUrlPolicy {
  /** Allow `http:` as well as `https:`. */
  allowInsecureUrls: boolean
  /** Allow hosts that are or resolve to loopback, private, link-local or other non-public addresses. */
  allowPrivateAddresses: boolean
}

export class OutboundUrlRefused extends Error {
  override readonly name = 'OutboundUrlRefused'
}

/** Resolves every address of a host name (the system resolver, as a connection would use it). */
export type ResolveAll = (hostname: string) => Promise<LookupAddress[]>

export const resolveAll: ResolveAll = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
      if (error === null) resolve(addresses)
      else reject(error)
    })
  })

type Range = readonly [base: bigint, prefix: number, what: string]

const v4 = (text: string): bigint =>
  text.split('.').reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n)

/** IPv4 blocks that are not the public internet (IANA special-purpose registry, RFC 6890 and after). */
const IPV4_RANGES: Range[] = [
  [v4('0.0.0.0'), 8, 'unspecified ("this network")'],
  [v4('10.0.0.0'), 8, 'private (RFC 1918)'],
  [v4('100.64.0.0'), 10, 'shared address space (carrier-grade NAT)'],
  [v4('127.0.0.0'), 8, 'loopback'],
  [v4('169.254.0.0'), 16, 'link-local'],
  [v4('172.16.0.0'), 12, 'private (RFC 1918)'],
  [v4('192.0.0.0'), 24, 'IETF protocol assignments'],
  [v4('192.0.2.0'), 24, 'documentation'],
  [v4('192.88.99.0'), 24, '6to4 relay anycast'],
  [v4('192.168.0.0'), 16, 'private (RFC 1918)'],
  [v4('198.18.0.0'), 15, 'benchmarking'],
  [v4('198.51.100.0'), 24, 'documentation'],
  [v4('203.0.113.0'), 24, 'documentation'],
  [v4('224.0.0.0'), 4, 'multicast'],
  [v4('240.0.0.0'), 4, 'reserved or broadcast'],
]

/** The 128-bit value of an IPv6 address (with or without a trailing dotted quad, zone id dropped). */
function ipv6Value(text: string): bigint {
  const address = text.split('%')[0] ?? ''
  let head = address
  let tail: bigint | undefined
  const lastColon = address.lastIndexOf(':')
  if (address.slice(lastColon + 1).includes('.')) {
    tail = v4(address.slice(lastColon + 1))
    head = `${address.slice(0, lastColon + 1)}0:0`
  }
  const [left = '', right] = head.split('::')
  const groups = (part: string) => (part === '' ? [] : part.split(':'))
  const leftGroups = groups(left)
  const rightGroups = right === undefined ? [] : groups(right)
  const missing = 8 - leftGroups.length - rightGroups.length
  const all = [...leftGroups, ...Array<string>(right === undefined ? 0 : missing).fill('0'), ...rightGroups]
  let value = all.reduce((sum, group) => (sum << 16n) | BigInt(Number.parseInt(group, 16)), 0n)
  if (tail !== undefined) value = (value & ~0xffffffffn) | tail
  return value
}

const v6 = (text: string): bigint => ipv6Value(text)

/** IPv6 blocks that are not the public internet; those that embed an IPv4 address are checked through it. */
const IPV6_RANGES: Range[] = [
  [v6('::'), 128, 'unspecified'],
  [v6('::1'), 128, 'loopback'],
  [v6('::'), 96, 'IPv4-compatible (deprecated)'],
  [v6('100::'), 64, 'discard-only'],
  [v6('64:ff9b:1::'), 48, 'local-use IPv4/IPv6 translation'],
  [v6('2001::'), 23, 'IETF protocol assignments'],
  [v6('2001:db8::'), 32, 'documentation'],
  [v6('3fff::'), 20, 'documentation'],
  [v6('fc00::'), 7, 'unique local (private)'],
  [v6('fe80::'), 10, 'link-local'],
  [v6('fec0::'), 10, 'site-local (deprecated)'],
  [v6('ff00::'), 8, 'multicast'],
]

function inRange(value: bigint, bits: number, [base, prefix]: Range): boolean {
  const shift = BigInt(bits - prefix)
  return value >> shift === base >> shift
}

function ipv4Problem(value: bigint): string | undefined {
  return IPV4_RANGES.find((range) => inRange(value, 32, range))?.[2]
}

/**
 * Why an IP address is not a public one ("loopback", "private (RFC 1918)", …), or undefined for a public
 * address. IPv4-mapped (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses are
 * judged by the IPv4 address they carry. Anything that is not an IP address is a problem too.
 */
export function addressProblem(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  if (isIPv4(bare)) return ipv4Problem(v4(bare))
  if (!isIPv6(bare.split('%')[0] ?? '')) return 'not an IP address'
  const value = ipv6Value(bare)
  if (value >> 32n === 0xffffn) return ipv4Problem(value & 0xffffffffn)
  if (value >> 32n === v6('64:ff9b::') >> 32n) return ipv4Problem(value & 0xffffffffn)
  if (value >> 112n === 0x2002n) return ipv4Problem((value >> 80n) & 0xffffffffn)
  return IPV6_RANGES.find((range) => inRange(value, 128, range))?.[2]
}

/** The URL if its form is acceptable (scheme, no credentials); throws `OutboundUrlRefused` otherwise. */
export function parseOutboundUrl(text: string, policy: OutboundUrlPolicy): URL {
  if (!URL.canParse(text)) throw new OutboundUrlRefused('the URL is not an absolute URL')
  const url = new URL(text)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowInsecureUrls)) {
    throw new OutboundUrlRefused(
      policy.allowInsecureUrls ? 'the URL must be http or https' : 'the URL must be https',
    )
  }
  if (url.username !== '' || url.password !== '') {
    throw new OutboundUrlRefused('the URL must not carry credentials (use the authentication field)')
  }
  if (url.hostname === '') throw new OutboundUrlRefused('the URL has no host')
  return url
}

/** The host of a URL as an address or name (WHATWG has already turned `0x7f.1`, `2130706433` into dotted IPv4). */
function hostOf(url: URL): string {
  const host = url.hostname
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/**
 * Checks a URL for an outbound request: its form, then every address its host is or resolves to. Resolves
 * the parsed URL; throws `OutboundUrlRefused` with the reason (the host is named, never the path or query).
 */
export async function checkOutboundUrl(
  text: string,
  policy: OutboundUrlPolicy,
  resolve: ResolveAll = resolveAll,
): Promise<URL> {
  const url = parseOutboundUrl(text, policy)
  if (policy.allowPrivateAddresses) return url
  const host = hostOf(url)
  if (isIP(host) !== 0) {
    const problem = addressProblem(host)
    if (problem !== undefined) throw new OutboundUrlRefused(`${url.hostname} is a ${problem} address`)
    return url
  }
  let addresses: LookupAddress[]
  try {
    addresses = await resolve(host)
  } catch {
    throw new OutboundUrlRefused(`${url.hostname} does not resolve`)
  }
  if (addresses.length === 0) throw new OutboundUrlRefused(`${url.hostname} does not resolve`)
  for (const { address } of addresses) {
    const problem = addressProblem(address)
    if (problem !== undefined) {
      throw new OutboundUrlRefused(`${url.hostname} resolves to ${address}, a ${problem} address`)
    }
  }
  return url
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void

/**
 * A `lookup` for `http.request` / `https.request` that resolves the host, refuses it unless every address is
 * allowed by the policy, and hands the connection the addresses it checked.
 */
export function guardedLookup(policy: OutboundUrlPolicy, resolve: ResolveAll = resolveAll) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: LookupCallback,
  ) => {
    resolve(hostname).then(
      (addresses) => {
        const family = Number(options.family ?? 0)
        const usable = addresses.filter((entry) => family === 0 || entry.family === family)
        const refused = policy.allowPrivateAddresses
          ? undefined
          : addresses.find((entry) => addressProblem(entry.address) !== undefined)
        if (refused !== undefined || usable.length === 0) {
          const error: NodeJS.ErrnoException = new OutboundUrlRefused(
            refused === undefined
              ? `${hostname} has no usable address`
              : `${hostname} resolves to ${refused.address}, a ${addressProblem(refused.address)} address`,
          )
          error.code = 'EADDRNOTAVAIL'
          callback(error, '')
          return
        }
        const [first] = usable as [LookupAddress]
        if (options.all === true) callback(null, usable)
        else callback(null, first.address, first.family)
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    )
  }
}
