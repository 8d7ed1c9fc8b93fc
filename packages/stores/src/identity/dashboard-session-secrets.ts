import { createHash, randomBytes } from 'node:crypto'
import type { DashboardSessionRecord } from './types.js'

/** `lastSeenAt` moves in steps of this: a page load every second must not be a write every second. */
export const LAST_SEEN_RESOLUTION_MS = 60_000

const SESSION_SECRET_PATTERN = /^ps_[A-Za-z0-9_-]{43}$/

/** `ses_` + 16 base64url characters (96 random bits): the public id. */
export function newDashboardSessionId(): string {
  return `ses_${randomBytes(12).toString('base64url')}`
}

/** The secret in the browser's cookie: `ps_` + 32 random bytes base64url. */
export function newDashboardSessionSecret(): string {
  return `ps_${randomBytes(32).toString('base64url')}`
}

/** Whether a presented token has the shape of a session secret (anything else is never looked up). */
export function isDashboardSessionSecret(secret: string): boolean {
  return SESSION_SECRET_PATTERN.test(secret)
}

/**
 * SHA-256 of the secret, hex: the only form stored, and the lookup key. Looking a session up by the hash
 * of a 256-bit random secret leaks nothing a timing attack could use.
 */
export function hashDashboardSessionSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

export function dashboardSessionIsLive(record: DashboardSessionRecord, now: number): boolean {
  return record.revokedAt === null && record.expiresAt > now
}

/** Whether `verify` at `now` should move `lastSeenAt`. */
export function lastSeenIsStale(record: DashboardSessionRecord, now: number): boolean {
  return now - record.lastSeenAt >= LAST_SEEN_RESOLUTION_MS
}
