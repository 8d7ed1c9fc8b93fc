import { and, asc, count, eq, gt, lte, sql } from 'drizzle-orm'
import type { ParleyDatabase, ParleyTransaction } from '../database.js'
import { PairingLimitError } from '../errors.js'
import { type PairingRequestRow, pairedChannels, pairingRequests } from '../schema.js'
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

interface ResolveOptions {
  channelId?: string
  approvedBy?: string
  now?: number
  displayName?: string
}

/**
 * Chat-user pairing in `pairing_requests` and `paired_channels`. Every approval deletes its request in
 * the transaction that pairs the sender, so of concurrent approvals (on any node) exactly one succeeds.
 */
export function createPostgresPairingStore(
  database: ParleyDatabase,
  options: PairingStoreOptions,
): PairingStore {
  const settings = resolvePairingOptions(options)
  const { db } = database

  const pending = (row: PairingRequestRow): PendingPairing => ({
    id: row.id,
    channelType: row.channelType,
    channelId: row.channelId,
    displayName: row.displayName,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    failedAttempts: row.failedAttempts,
    locked: row.failedAttempts >= settings.maxFailedAttempts,
  })

  /** Deletes the request (unless another approval did first) and pairs its sender: the one who asked. */
  async function pairSender(
    tx: ParleyTransaction,
    request: PairingRequestRow,
    approvedBy: string | null,
    now: number,
    displayName?: string,
  ): Promise<PairingResolution> {
    const deleted = await tx
      .delete(pairingRequests)
      .where(eq(pairingRequests.id, request.id))
      .returning({ id: pairingRequests.id })
    if (deleted.length === 0) return { ok: false, reason: 'not_found' }
    const channel: PairedChannel = {
      channelType: request.channelType,
      channelId: request.channelId,
      displayName: displayName ?? request.displayName,
      pairedAt: now,
      approvedBy,
    }
    await tx
      .insert(pairedChannels)
      .values(channel)
      .onConflictDoUpdate({
        target: [pairedChannels.channelType, pairedChannels.channelId],
        set: { displayName: channel.displayName, pairedAt: now, approvedBy },
      })
    return { ok: true, paired: channel, requestId: request.id }
  }

  function resolveCode(
    channelType: string,
    code: string,
    resolve: ResolveOptions,
  ): Promise<PairingResolution> {
    const now = resolve.now ?? Date.now()
    const approvedBy = resolve.approvedBy ?? null
    const sender = resolve.channelId === '' ? undefined : resolve.channelId
    return db.transaction(async (tx) => {
      // With a sender, its request is row-locked so concurrent wrong codes each count.
      const [request] =
        sender === undefined
          ? await tx
              .select()
              .from(pairingRequests)
              .where(
                and(
                  eq(pairingRequests.channelType, channelType),
                  eq(pairingRequests.codeHash, pairingCodeHash(settings.secret, code)),
                ),
              )
          : await tx
              .select()
              .from(pairingRequests)
              .where(and(eq(pairingRequests.channelType, channelType), eq(pairingRequests.channelId, sender)))
              .for('update')
      if (request === undefined) return { ok: false, reason: 'not_found' }
      if (request.expiresAt <= now) return { ok: false, reason: 'expired' }
      if (request.failedAttempts >= settings.maxFailedAttempts) return { ok: false, reason: 'locked' }
      if (sender !== undefined && !pairingCodeMatches(settings.secret, code, request.codeHash)) {
        await tx
          .update(pairingRequests)
          .set({ failedAttempts: sql`${pairingRequests.failedAttempts} + 1` })
          .where(eq(pairingRequests.id, request.id))
        return { ok: false, reason: 'wrong_code' }
      }
      return pairSender(tx, request, approvedBy, now, resolve.displayName)
    })
  }

  return {
    async generateCode(channelType = DEFAULT_CHANNEL_TYPE, channelId, codeOptions = {}) {
      const sender = requireSender(channelId)
      const now = codeOptions.now ?? Date.now()
      return db.transaction(async (tx) => {
        // One writer per channel type at a time (on every node), so the cap and "one request per sender" hold.
        await tx.execute(
          sql`select pg_advisory_xact_lock(hashtextextended(${`parley.pairing:${channelType}`}, 0))`,
        )
        await tx
          .delete(pairingRequests)
          .where(and(eq(pairingRequests.channelType, channelType), lte(pairingRequests.expiresAt, now)))
        const [existing] = await tx
          .select({ id: pairingRequests.id })
          .from(pairingRequests)
          .where(and(eq(pairingRequests.channelType, channelType), eq(pairingRequests.channelId, sender)))
        if (existing !== undefined) return pairingCodeFor(settings.secret, existing.id)
        const [pendingOfType] = await tx
          .select({ count: count() })
          .from(pairingRequests)
          .where(eq(pairingRequests.channelType, channelType))
        if ((pendingOfType?.count ?? 0) >= settings.maxPendingPerChannelType) {
          throw new PairingLimitError(channelType, settings.maxPendingPerChannelType)
        }
        // Codes are 40 bits: a clash with another live request of the type is rare, but would be ambiguous.
        for (;;) {
          const id = newPairingRequestId()
          const code = pairingCodeFor(settings.secret, id)
          const inserted = await tx
            .insert(pairingRequests)
            .values({
              id,
              channelType,
              channelId: sender,
              displayName: codeOptions.displayName ?? null,
              codeHash: pairingCodeHash(settings.secret, code),
              createdAt: now,
              expiresAt: now + settings.codeTtlMs,
            })
            .onConflictDoNothing()
            .returning({ id: pairingRequests.id })
          if (inserted.length > 0) return code
        }
      })
    },

    async approve(channelType, code, userId, userName) {
      const resolution = await resolveCode(channelType, code, {
        ...(userId ? { channelId: userId } : {}),
        ...(userName ? { displayName: userName } : {}),
      })
      return resolution.ok
    },

    approveCode: (channelType, code, resolve = {}) => resolveCode(channelType, code, resolve),

    approveRequest(requestId, approvedBy, now = Date.now()) {
      return db.transaction(async (tx): Promise<PairingResolution> => {
        const [request] = await tx.select().from(pairingRequests).where(eq(pairingRequests.id, requestId))
        if (request === undefined) return { ok: false, reason: 'not_found' }
        if (request.expiresAt <= now) return { ok: false, reason: 'expired' }
        // The operator's path ignores the wrong-code lock: outsiders must not be able to block an approval.
        return pairSender(tx, request, approvedBy, now)
      })
    },

    async deny(requestId) {
      const [row] = await db.delete(pairingRequests).where(eq(pairingRequests.id, requestId)).returning()
      return row === undefined ? undefined : pending(row)
    },

    async isPaired(channelId, channelType) {
      const rows = await db
        .select({ channelId: pairedChannels.channelId })
        .from(pairedChannels)
        .where(and(eq(pairedChannels.channelType, channelType), eq(pairedChannels.channelId, channelId)))
      return rows.length > 0
    },

    async listPaired() {
      return db
        .select()
        .from(pairedChannels)
        .orderBy(
          asc(pairedChannels.pairedAt),
          sql`${pairedChannels.channelType} collate "C"`,
          sql`${pairedChannels.channelId} collate "C"`,
        )
    },

    async revoke(channelId, channelType) {
      const deleted = await db
        .delete(pairedChannels)
        .where(and(eq(pairedChannels.channelType, channelType), eq(pairedChannels.channelId, channelId)))
        .returning({ channelId: pairedChannels.channelId })
      return deleted.length > 0
    },

    async listPending(channelType, now = Date.now()) {
      const rows = await db
        .select()
        .from(pairingRequests)
        .where(
          and(
            gt(pairingRequests.expiresAt, now),
            channelType === undefined ? undefined : eq(pairingRequests.channelType, channelType),
          ),
        )
        .orderBy(asc(pairingRequests.createdAt), asc(pairingRequests.seq))
      return rows.map(pending)
    },
  }
}
