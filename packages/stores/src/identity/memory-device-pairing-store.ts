import {
  DEFAULT_DEVICE_REQUEST_TTL_MS,
  DEVICE_REQUEST_RETENTION_MS,
  deviceRequestAt,
  newDeviceRequestId,
} from './device-requests.js'
import type { DevicePairingStore, DeviceRequest } from './types.js'

/** Device pairing requests in memory. */
export function createMemoryDevicePairingStore(): DevicePairingStore {
  const requests = new Map<string, DeviceRequest>()

  function decide(id: string, now: number, decision: Partial<DeviceRequest>): DeviceRequest | undefined {
    const request = requests.get(id)
    if (request === undefined || request.status !== 'pending' || request.expiresAt <= now) return undefined
    Object.assign(request, decision)
    return { ...request }
  }

  return {
    async request(input, now) {
      for (const [id, old] of requests) {
        if (old.expiresAt + DEVICE_REQUEST_RETENTION_MS <= now) requests.delete(id)
      }
      const request: DeviceRequest = {
        id: newDeviceRequestId(),
        deviceName: input.deviceName,
        platform: input.platform ?? null,
        remoteAddress: input.remoteAddress ?? null,
        createdAt: now,
        expiresAt: now + (input.ttlMs ?? DEFAULT_DEVICE_REQUEST_TTL_MS),
        status: 'pending',
        tokenId: null,
        identity: input.identity ?? null,
        publicKey: input.publicKey ?? null,
      }
      requests.set(request.id, request)
      return { ...request }
    },
    async get(id, now) {
      const request = requests.get(id)
      return request === undefined ? undefined : deviceRequestAt(request, now)
    },
    async listPending(now) {
      return [...requests.values()]
        .filter((request) => request.status === 'pending' && request.expiresAt > now)
        .sort((a, b) => a.createdAt - b.createdAt)
        .map((request) => ({ ...request }))
    },
    async approve(id, tokenId, now) {
      return decide(id, now, { status: 'approved', tokenId })
    },
    async deny(id, now) {
      return decide(id, now, { status: 'denied' })
    },
  }
}
