import type { ConnectionList } from '@parley/protocol/admin'
import { formatCount } from './format'

export interface ConnectionCounts {
  open: number
  /** Devices connected and waiting for the operator to approve their pairing. */
  pairing: number
  /** Every connection the gateway holds (also being set up or closed): the number `/health` counts. */
  total: number
}

/** The one connection count the console shows, and what it is made of. */
export function connectionCounts(list: ConnectionList): ConnectionCounts {
  const open = list.connections.length
  const pairing = list.pairing.length
  return { open, pairing, total: Math.max(list.total ?? 0, open + pairing) }
}

/** `11 open · 1 waiting for pairing · 12 in all` (the parts that are not zero besides `open`). */
export function describeConnectionCounts(counts: ConnectionCounts): string {
  const parts = [`${formatCount(counts.open)} open`]
  if (counts.pairing > 0) parts.push(`${formatCount(counts.pairing)} waiting for pairing`)
  const settingUp = counts.total - counts.open - counts.pairing
  if (settingUp > 0) parts.push(`${formatCount(settingUp)} opening or closing`)
  return parts.join(' · ')
}

/** The Pairing page, at the device request `requestId` when known. */
export function pairingHref(requestId: string | null): string {
  return requestId === null ? '/pairing' : `/pairing#device-${encodeURIComponent(requestId)}`
}
