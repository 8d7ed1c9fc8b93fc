import { BlockList, isIP } from 'node:net'
import { CLIENT_ADDRESS_HEADER, DASHBOARD_SECRET_HEADER } from '@parley/protocol'
import type { Context } from 'hono'
import { secretMatches } from '../security/secrets.js'
import type { GatewayEnv } from './create-app.js'

export interface ClientAddressOptions {
  /** Addresses or CIDR blocks of reverse proxies whose `X-Forwarded-For` is believed. */
  trustedProxies: readonly string[]
  /** SHA-256 of the dashboard secret; undefined: no request may name a browser's address. */
  dashboardSecretDigest: Buffer | undefined
  /**
   * Called (once) when a request presents a dashboard secret the gateway does not share: a dashboard whose
   * `PARLEY_DASHBOARD_SECRET` differs from the gateway's (or is unset on the gateway) is counted as one address.
   */
  onSecretMismatch?: () => void
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is `10.0.0.1`. */
export function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)
  return mapped?.[1] ?? address
}

/** Whether an address falls in one of the blocks. */
export function createAddressMatcher(blocks: readonly string[]): (address: string) => boolean {
  if (blocks.length === 0) return () => false
  const list = new BlockList()
  for (const block of blocks) {
    const [address = '', prefix] = block.split('/')
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (prefix === undefined) list.addAddress(address, family)
    else list.addSubnet(address, Number(prefix), family)
  }
  return (address) => {
    const family = isIP(address)
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }
}

/**
 * The client behind a chain of proxies: `X-Forwarded-For` read from the right (the hop nearest us), skipping
 * trusted proxies; the first address that is not one is the client. Only called when the socket's peer is a
 * trusted proxy, so every entry right of the client was written by a proxy we trust.
 */
export function forwardedClient(header: string | undefined, isTrusted: (address: string) => boolean) {
  if (header === undefined) return undefined
  const hops = header
    .split(',')
    .map((hop) => normaliseAddress(hop.trim()))
    .filter((hop) => isIP(hop) !== 0)
  for (let index = hops.length - 1; index >= 0; index -= 1) {
    const hop = hops[index] as string
    if (!isTrusted(hop)) return hop
  }
  return hops[0]
}

/** The client's address from a socket peer and its `X-Forwarded-For`, believing the header only from a trusted proxy. */
export function createForwardedAddressResolver(trustedProxies: readonly string[]) {
  const isTrusted = createAddressMatcher(trustedProxies)
  return (socketAddress: string | null | undefined, forwardedFor: string | undefined): string | null => {
    if (socketAddress === null || socketAddress === undefined) return null
    const peer = normaliseAddress(socketAddress)
    if (!isTrusted(peer)) return peer
    return forwardedClient(forwardedFor, isTrusted) ?? peer
  }
}

export interface ClientAddress {
  /** Who the request counts against and is recorded with; null for an in-process request. */
  address: string | null
  /** Set when the dashboard named `address`: the dashboard server's own address, which relayed it. */
  relayedBy?: string
}

/**
 * The address a request counts against (the failed-auth limit) and is recorded with: the socket's peer,
 * or the client named by a trusted proxy's `X-Forwarded-For`, or, from the dashboard server proving the
 * shared dashboard secret, the browser's address it names. Anyone else naming an address is ignored.
 */
export function createClientAddressResolver(options: ClientAddressOptions) {
  const fromProxies = createForwardedAddressResolver(options.trustedProxies)
  const digest = options.dashboardSecretDigest
  let mismatchReported = false
  function mismatch(): void {
    if (mismatchReported) return
    mismatchReported = true
    options.onSecretMismatch?.()
  }
  return (c: Context<GatewayEnv>): ClientAddress => {
    const address = fromProxies(c.env?.incoming?.socket.remoteAddress, c.req.header('x-forwarded-for'))
    const presented = c.req.header(DASHBOARD_SECRET_HEADER)
    if (address === null || presented === undefined) return { address }
    if (digest === undefined || !secretMatches(presented, digest)) {
      mismatch()
      return { address }
    }
    const named = c.req.header(CLIENT_ADDRESS_HEADER)?.trim()
    if (named === undefined || isIP(named) === 0) return { address }
    return { address: normaliseAddress(named), relayedBy: address }
  }
}

export type ClientAddressResolver = ReturnType<typeof createClientAddressResolver>
