import type {
  PairingCheckFrame,
  PairingCheckResult,
  PairingDecision,
  PairingOverview,
  PairingResolvedFrame,
} from '@parley/protocol'
import type { PairingResolution, PairingStore, PendingPairing } from '@parley/stores'
import type { PairingConfig, PairingPolicy } from '../config.js'
import { GatewayError } from '../errors.js'
import type { ApprovalLinks } from './approval-links.js'

export interface ChatPairingDeps {
  config: PairingConfig
  /** Throws `unavailable` until the gateway has opened it. */
  store: () => PairingStore
  /** Signs owner approval links; undefined until the pairing secret is known. */
  links: () => ApprovalLinks | undefined
  /** Sends `pairing_resolved` to every connector connection. */
  resolved: (frame: PairingResolvedFrame) => void
  now?: () => number
}

type Resolution = PairingResolvedFrame['status']

const iso = (time: number) => new Date(time).toISOString()

/**
 * Chat-user pairing for connectors: the policy of a channel type decides whether a sender may talk;
 * under `pair` a new sender gets a code, and every decision (whatever surface made it) is announced to
 * the connectors with `pairing_resolved`.
 */
export function createChatPairing(deps: ChatPairingDeps) {
  const now = deps.now ?? Date.now

  function policyOf(channelType: string): PairingPolicy {
    return deps.config.policies[channelType] ?? deps.config.defaultPolicy
  }

  function announce(
    decision: { requestId: string | null; channelType: string; senderId: string },
    status: Resolution,
  ) {
    deps.resolved({ type: 'pairing_resolved', ...decision, status, timestamp: now() })
  }

  function approvalUrl(requestId: string, expiresAt: number): string | undefined {
    const base = deps.config.publicUrl
    const links = deps.links()
    if (base === undefined || links === undefined) return undefined
    return `${base.replace(/\/+$/, '')}/pairing/approve/${links.sign(requestId, expiresAt)}`
  }

  /** Maps a failed resolution to the edge's error; `what` names the request for the message. */
  function refusal(resolution: Extract<PairingResolution, { ok: false }>, what: string): GatewayError {
    switch (resolution.reason) {
      case 'not_found':
        return new GatewayError('not_found', `no pending pairing request ${what}`)
      case 'wrong_code':
        return new GatewayError('not_found', `no pending pairing request ${what}`)
      case 'expired':
        return new GatewayError('pairing_expired', `the pairing request ${what} has expired`)
      case 'locked':
        return new GatewayError(
          'conflict',
          `the pairing request ${what} refuses codes after too many wrong ones; approve it by request id`,
        )
    }
  }

  function approved(resolution: Extract<PairingResolution, { ok: true }>): PairingDecision {
    const decision = {
      requestId: resolution.requestId,
      channelType: resolution.paired.channelType,
      senderId: resolution.paired.channelId,
    }
    announce(decision, 'approved')
    return { ...decision, status: 'approved' }
  }

  async function findPending(requestId: string): Promise<PendingPairing | undefined> {
    return (await deps.store().listPending(undefined, now())).find((request) => request.id === requestId)
  }

  return {
    policyOf,

    async check(frame: PairingCheckFrame): Promise<PairingCheckResult> {
      const policy = policyOf(frame.channelType)
      const store = deps.store()
      switch (policy) {
        case 'open':
          return { status: 'allowed', policy }
        case 'deny':
          return { status: 'denied', policy }
        case 'allowlist': {
          const listed = deps.config.allowlist[frame.channelType]?.includes(frame.senderId) ?? false
          const allowed = listed || (await store.isPaired(frame.senderId, frame.channelType))
          return { status: allowed ? 'allowed' : 'denied', policy }
        }
        case 'pair': {
          if (await store.isPaired(frame.senderId, frame.channelType)) return { status: 'allowed', policy }
          const at = now()
          const code = await store.generateCode(frame.channelType, frame.senderId, {
            displayName: frame.displayName ?? null,
            now: at,
          })
          const request = (await store.listPending(frame.channelType, at)).find(
            (candidate) => candidate.channelId === frame.senderId,
          )
          if (request === undefined) return { status: 'pending', policy, code }
          const url = approvalUrl(request.id, request.expiresAt)
          return {
            status: 'pending',
            policy,
            code,
            requestId: request.id,
            expiresAt: request.expiresAt,
            ...(url === undefined ? {} : { approvalUrl: url }),
          }
        }
      }
    },

    async overview(): Promise<PairingOverview> {
      const at = now()
      const store = deps.store()
      const [pending, paired] = await Promise.all([store.listPending(undefined, at), store.listPaired()])
      return {
        pending: pending.map((request) => ({
          id: request.id,
          channelType: request.channelType,
          senderId: request.channelId,
          displayName: request.displayName,
          createdAt: iso(request.createdAt),
          expiresAt: iso(request.expiresAt),
          ageS: Math.max(0, Math.floor((at - request.createdAt) / 1000)),
          failedAttempts: request.failedAttempts,
          locked: request.locked,
        })),
        paired: paired.map((channel) => ({
          channelType: channel.channelType,
          senderId: channel.channelId,
          displayName: channel.displayName,
          pairedAt: iso(channel.pairedAt),
          approvedBy: channel.approvedBy,
        })),
      }
    },

    findPending,

    /** The operator's path: by request id, also when wrong codes locked it. */
    async approveRequest(requestId: string, approvedBy: string): Promise<PairingDecision> {
      const resolution = await deps.store().approveRequest(requestId, approvedBy, now())
      if (!resolution.ok) throw refusal(resolution, requestId)
      return approved(resolution)
    },

    async approveCode(
      input: { channelType: string; code: string; senderId?: string | undefined },
      approvedBy: string,
    ): Promise<PairingDecision> {
      const resolution = await deps.store().approveCode(input.channelType, input.code, {
        ...(input.senderId === undefined ? {} : { channelId: input.senderId }),
        approvedBy,
        now: now(),
      })
      if (!resolution.ok) {
        throw refusal(resolution, `with that code on ${input.channelType}`)
      }
      return approved(resolution)
    },

    async deny(requestId: string): Promise<PairingDecision> {
      const request = await deps.store().deny(requestId, now())
      if (request === undefined)
        throw new GatewayError('not_found', `no pending pairing request ${requestId}`)
      const decision = {
        requestId: request.id,
        channelType: request.channelType,
        senderId: request.channelId,
      }
      announce(decision, 'denied')
      return { ...decision, status: 'denied' }
    },

    async revoke(channelType: string, senderId: string): Promise<PairingDecision> {
      const revoked = await deps.store().revoke(senderId, channelType)
      if (!revoked) throw new GatewayError('not_found', `${senderId} is not paired on ${channelType}`)
      const decision = { requestId: null, channelType, senderId }
      announce(decision, 'revoked')
      return { ...decision, status: 'revoked' }
    },
  }
}

export type ChatPairing = ReturnType<typeof createChatPairing>
