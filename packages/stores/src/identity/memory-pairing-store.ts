import { PairingLimitError } from '../errors.js'
import {
  DEFAULT_CHANNEL_TYPE,
  newPairingRequestId,
  pairingCodeFor,
  pairingCodeHash,
  pairingCodeMatches,
  requireSender,
  resolvePairingOptions,
} from './pairing-codes.js'
import type {
  PairedChannel,
  PairingResolution,
  PairingStore,
  PairingStoreOptions,
  PendingPairing,
} from './types.js'

interface StoredRequest {
  id: string
  channelType: string
  channelId: string
  displayName: string | null
  codeHash: string
  createdAt: number
  expiresAt: number
  failedAttempts: number
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** Keys of maps by (channel type, channel id); JSON keeps the parts apart whatever they hold. */
const pairKey = (channelType: string, channelId: string) => JSON.stringify([channelType, channelId])

/** Chat-user pairing in memory. Same rules as on Postgres; see `PairingStore`. */
export function createMemoryPairingStore(options: PairingStoreOptions): PairingStore {
  const settings = resolvePairingOptions(options)
  const requests = new Map<string, StoredRequest>()
  const requestBySender = new Map<string, string>()
  const paired = new Map<string, PairedChannel>()

  const pending = (request: StoredRequest): PendingPairing => ({
    id: request.id,
    channelType: request.channelType,
    channelId: request.channelId,
    displayName: request.displayName,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    failedAttempts: request.failedAttempts,
    locked: request.failedAttempts >= settings.maxFailedAttempts,
  })

  function remove(request: StoredRequest): void {
    requests.delete(request.id)
    requestBySender.delete(pairKey(request.channelType, request.channelId))
  }

  function removeExpired(channelType: string, now: number): void {
    for (const request of requests.values()) {
      if (request.channelType === channelType && request.expiresAt <= now) remove(request)
    }
  }

  /** Removes the request and pairs its sender: the one who asked for the code. */
  function pairSender(
    request: StoredRequest,
    approvedBy: string | null,
    now: number,
    displayName?: string | null,
  ): PairingResolution {
    remove(request)
    const channel: PairedChannel = {
      channelType: request.channelType,
      channelId: request.channelId,
      displayName: displayName ?? request.displayName,
      pairedAt: now,
      approvedBy,
    }
    paired.set(pairKey(channel.channelType, channel.channelId), channel)
    return { ok: true, paired: { ...channel }, requestId: request.id }
  }

  function findByCode(channelType: string, code: string): StoredRequest | undefined {
    const hash = pairingCodeHash(settings.secret, code)
    for (const request of requests.values()) {
      if (request.channelType === channelType && request.codeHash === hash) return request
    }
    return undefined
  }

  function resolveCode(
    channelType: string,
    code: string,
    resolveOptions: { channelId?: string; approvedBy?: string; now?: number; displayName?: string },
  ): PairingResolution {
    const now = resolveOptions.now ?? Date.now()
    const approvedBy = resolveOptions.approvedBy ?? null
    const { channelId } = resolveOptions
    if (channelId === undefined || channelId === '') {
      const request = findByCode(channelType, code)
      if (request === undefined) return { ok: false, reason: 'not_found' }
      if (request.expiresAt <= now) return { ok: false, reason: 'expired' }
      if (request.failedAttempts >= settings.maxFailedAttempts) return { ok: false, reason: 'locked' }
      return pairSender(request, approvedBy, now, resolveOptions.displayName)
    }
    const requestId = requestBySender.get(pairKey(channelType, channelId))
    const request = requestId === undefined ? undefined : requests.get(requestId)
    if (request === undefined) return { ok: false, reason: 'not_found' }
    if (request.expiresAt <= now) return { ok: false, reason: 'expired' }
    if (request.failedAttempts >= settings.maxFailedAttempts) return { ok: false, reason: 'locked' }
    if (!pairingCodeMatches(settings.secret, code, request.codeHash)) {
      request.failedAttempts += 1
      return { ok: false, reason: 'wrong_code' }
    }
    return pairSender(request, approvedBy, now, resolveOptions.displayName)
  }

  return {
    async generateCode(channelType = DEFAULT_CHANNEL_TYPE, channelId, codeOptions = {}) {
      const sender = requireSender(channelId)
      const now = codeOptions.now ?? Date.now()
      removeExpired(channelType, now)
      const existingId = requestBySender.get(pairKey(channelType, sender))
      const existing = existingId === undefined ? undefined : requests.get(existingId)
      if (existing !== undefined) return pairingCodeFor(settings.secret, existing.id)
      let pendingOfType = 0
      for (const request of requests.values()) if (request.channelType === channelType) pendingOfType += 1
      if (pendingOfType >= settings.maxPendingPerChannelType) {
        throw new PairingLimitError(channelType, settings.maxPendingPerChannelType)
      }
      // Codes are 40 bits: a clash with another live request of the type is rare, but would be ambiguous.
      for (;;) {
        const id = newPairingRequestId()
        const code = pairingCodeFor(settings.secret, id)
        if (findByCode(channelType, code) !== undefined) continue
        const request: StoredRequest = {
          id,
          channelType,
          channelId: sender,
          displayName: codeOptions.displayName ?? null,
          codeHash: pairingCodeHash(settings.secret, code),
          createdAt: now,
          expiresAt: now + settings.codeTtlMs,
          failedAttempts: 0,
        }
        requests.set(id, request)
        requestBySender.set(pairKey(channelType, sender), id)
        return code
      }
    },

    async approve(channelType, code, userId, userName) {
      const resolution = resolveCode(channelType, code, {
        ...(userId ? { channelId: userId } : {}),
        ...(userName ? { displayName: userName } : {}),
      })
      return resolution.ok
    },

    async approveCode(channelType, code, resolveOptions = {}) {
      return resolveCode(channelType, code, resolveOptions)
    },

    async approveRequest(requestId, approvedBy, now = Date.now()) {
      const request = requests.get(requestId)
      if (request === undefined) return { ok: false, reason: 'not_found' }
      if (request.expiresAt <= now) return { ok: false, reason: 'expired' }
      // The operator's path ignores the wrong-code lock: outsiders must not be able to block an approval.
      return pairSender(request, approvedBy, now)
    },

    async deny(requestId) {
      const request = requests.get(requestId)
      if (request === undefined) return undefined
      remove(request)
      return pending(request)
    },

    async isPaired(channelId, channelType) {
      return paired.has(pairKey(channelType, channelId))
    },

    async listPaired() {
      return [...paired.values()]
        .sort(
          (a, b) =>
            a.pairedAt - b.pairedAt ||
            compareText(a.channelType, b.channelType) ||
            compareText(a.channelId, b.channelId),
        )
        .map((channel) => ({ ...channel }))
    },

    async revoke(channelId, channelType) {
      return paired.delete(pairKey(channelType, channelId))
    },

    async listPending(channelType, now = Date.now()) {
      return [...requests.values()]
        .filter((request) => request.expiresAt > now)
        .filter((request) => channelType === undefined || request.channelType === channelType)
        .sort((a, b) => a.createdAt - b.createdAt)
        .map(pending)
    },
  }
}
