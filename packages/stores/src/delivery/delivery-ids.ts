import { randomBytes } from 'node:crypto'

/** A new stream epoch: `ep_` + 16 base64url characters (96 random bits). */
export function newEpoch(): string {
  return `ep_${randomBytes(12).toString('base64url')}`
}

/** The default id of a delivery created by durable fan-out: `dlv_` + 22 base64url characters. */
export function newDeliveryId(): string {
  return `dlv_${randomBytes(16).toString('base64url')}`
}

/**
 * The scope an idempotency key is unique in: a publish key per channel, a send key per (source,
 * recipient). JSON keeps the parts apart whatever characters they hold.
 */
export function publishKeyScope(channel: string): string {
  return JSON.stringify(['publish', channel])
}

export function sendKeyScope(source: string, recipient: string): string {
  return JSON.stringify(['send', source, recipient])
}
