import { randomBytes } from 'node:crypto'
import type { DeviceRequest } from './types.js'

export const DEFAULT_DEVICE_REQUEST_TTL_MS = 300_000
/**
 * How long a finished or expired request stays readable (a waiting client polls its status), after which
 * it is deleted. Requests come from clients without credentials, so nothing may pile up forever.
 */
export const DEVICE_REQUEST_RETENTION_MS = 3_600_000

/** `dev_` + 22 base64url characters (128 random bits). */
export function newDeviceRequestId(): string {
  return `dev_${randomBytes(16).toString('base64url')}`
}

/** The request as seen at `now`: a pending one past its TTL reads as expired. */
export function deviceRequestAt(request: DeviceRequest, now: number): DeviceRequest {
  return request.status === 'pending' && request.expiresAt <= now
    ? { ...request, status: 'expired' }
    : { ...request }
}
