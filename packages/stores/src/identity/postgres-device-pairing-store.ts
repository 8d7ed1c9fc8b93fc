import { and, asc, eq, gt, lte } from 'drizzle-orm'
import type { ParleyDatabase } from '../database.js'
import { type DeviceRequestRow, deviceRequests } from '../schema.js'
import {
  DEFAULT_DEVICE_REQUEST_TTL_MS,
  DEVICE_REQUEST_RETENTION_MS,
  deviceRequestAt,
  newDeviceRequestId,
} from './device-requests.js'
import type { DevicePairingStore, DeviceRequest, DeviceRequestStatus } from './types.js'

function toRequest(row: DeviceRequestRow): DeviceRequest {
  return {
    id: row.id,
    deviceName: row.deviceName,
    platform: row.platform,
    remoteAddress: row.remoteAddress,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    status: row.status as DeviceRequestStatus,
    tokenId: row.tokenId,
    identity: row.identity,
    publicKey: row.publicKey,
  }
}

/** Device pairing requests in the `device_requests` table. */
export function createPostgresDevicePairingStore(database: ParleyDatabase): DevicePairingStore {
  const { db } = database

  /** Pending → `status`, in one conditional update so concurrent decisions cannot both win. */
  async function decide(id: string, now: number, set: { status: DeviceRequestStatus; tokenId?: string }) {
    const [row] = await db
      .update(deviceRequests)
      .set(set)
      .where(
        and(
          eq(deviceRequests.id, id),
          eq(deviceRequests.status, 'pending'),
          gt(deviceRequests.expiresAt, now),
        ),
      )
      .returning()
    return row === undefined ? undefined : toRequest(row)
  }

  return {
    async request(input, now) {
      await db.delete(deviceRequests).where(lte(deviceRequests.expiresAt, now - DEVICE_REQUEST_RETENTION_MS))
      const [row] = await db
        .insert(deviceRequests)
        .values({
          id: newDeviceRequestId(),
          deviceName: input.deviceName,
          platform: input.platform ?? null,
          remoteAddress: input.remoteAddress ?? null,
          identity: input.identity ?? null,
          publicKey: input.publicKey ?? null,
          createdAt: now,
          expiresAt: now + (input.ttlMs ?? DEFAULT_DEVICE_REQUEST_TTL_MS),
          status: 'pending',
        })
        .returning()
      if (row === undefined) throw new Error('the device request insert returned no row')
      return toRequest(row)
    },
    async get(id, now) {
      const [row] = await db.select().from(deviceRequests).where(eq(deviceRequests.id, id))
      return row === undefined ? undefined : deviceRequestAt(toRequest(row), now)
    },
    async listPending(now) {
      const rows = await db
        .select()
        .from(deviceRequests)
        .where(and(eq(deviceRequests.status, 'pending'), gt(deviceRequests.expiresAt, now)))
        .orderBy(asc(deviceRequests.createdAt), asc(deviceRequests.seq))
      return rows.map(toRequest)
    },
    approve: (id, tokenId, now) => decide(id, now, { status: 'approved', tokenId }),
    deny: (id, now) => decide(id, now, { status: 'denied' }),
  }
}
