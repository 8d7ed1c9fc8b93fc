import {
  type ApproveDeviceRequest,
  type DeviceRequestInfo,
  errorBody,
  type HelloFrame,
} from '@parley/protocol'
import type { AgentKeyStore, DevicePairingStore, DeviceRequest, TokenStore } from '@parley/stores'
import type { Logger } from 'pino'
import type { AuthFailureLimiter } from '../auth/auth-failure-limiter.js'
import type { AuthCounters, Authenticated } from '../auth/authenticator.js'
import type { PairingConfig } from '../config.js'
import { GatewayError } from '../errors.js'
import type { Connection } from '../peers/connection.js'

export interface DevicePairingDeps {
  config: PairingConfig
  /** Throw `unavailable` until the gateway has opened them. */
  store: () => DevicePairingStore
  tokens: () => TokenStore
  /** Where an approved device's agent identity is registered. */
  agentKeys: () => AgentKeyStore
  limiter: AuthFailureLimiter
  counters: AuthCounters
  /** Completes the handshake of an approved device with its new credential. */
  admit: (connection: Connection, hello: HelloFrame, version: number, outcome: Authenticated) => Promise<void>
  /** Sends an approved device that registered an agent identity through the challenge instead. */
  challenge: (connection: Connection, hello: HelloFrame, version: number, identity: string) => void
  logger: Logger
  now?: () => number
}

interface Waiting {
  connection: Connection
  hello: HelloFrame
  version: number
  timer: NodeJS.Timeout
}

/** How long a device refused for the cap of waiting devices should wait before asking again. */
const WAITING_FULL_RETRY_AFTER_MS = 30_000

export function deviceRequestInfo(request: DeviceRequest): DeviceRequestInfo {
  return {
    id: request.id,
    deviceName: request.deviceName,
    platform: request.platform,
    remoteAddress: request.remoteAddress,
    createdAt: new Date(request.createdAt).toISOString(),
    expiresAt: new Date(request.expiresAt).toISOString(),
    status: request.status,
    tokenId: request.tokenId,
    identity: request.identity,
  }
}

/**
 * Device pairing: a client without credentials asks to be paired and waits on its connection (state
 * `pairing`: heartbeats go on, the handshake timeout does not apply) until the operator approves it (it
 * gets its own API token, then `welcome`), denies it (4009) or the request expires (4010).
 */
export function createDevicePairing(deps: DevicePairingDeps) {
  const { config, limiter, counters, logger } = deps
  const now = deps.now ?? Date.now
  const waiting = new Map<string, Waiting>()

  function refuse(
    connection: Connection,
    hello: HelloFrame,
    code: 'rate_limited',
    message: string,
    retryAfterMs: number,
  ) {
    connection.sendError(errorBody(code, message, retryAfterMs), hello.id)
    connection.close('unauthorized', message)
  }

  /** Stops waiting for a device: its timer and its entry go; the connection is left as it is. */
  function release(requestId: string): Waiting | undefined {
    const entry = waiting.get(requestId)
    if (entry === undefined) return undefined
    clearTimeout(entry.timer)
    waiting.delete(requestId)
    return entry
  }

  function end(entry: Waiting, code: 'pairing_denied' | 'pairing_expired', message: string): void {
    const { connection, hello } = entry
    if (connection.state !== 'pairing') return
    connection.sendError(errorBody(code, message), hello.id)
    connection.close(code, message)
  }

  async function pendingRequest(id: string): Promise<DeviceRequest> {
    const request = await deps.store().get(id, now())
    if (request === undefined) throw new GatewayError('not_found', `no device request ${id}`)
    if (request.status === 'expired')
      throw new GatewayError('pairing_expired', `the device request ${id} has expired`)
    if (request.status !== 'pending')
      throw new GatewayError('conflict', `the device request ${id} is already ${request.status}`)
    return request
  }

  return {
    /** Starts waiting: records the request and answers `pairing_pending`. */
    async wait(connection: Connection, hello: HelloFrame, version: number): Promise<void> {
      const device = hello.pairing?.device
      if (device === undefined) return
      const limit = limiter.check(connection.remoteAddress)
      if (!limit.allowed) {
        counters.authRateLimited += 1
        refuse(
          connection,
          hello,
          'rate_limited',
          'too many failed attempts from this address',
          limit.retryAfterMs,
        )
        return
      }
      if (waiting.size >= config.maxWaitingDevices) {
        // A flood of pairing requests counts like failed logins, so one address cannot hold the queue.
        limiter.recordFailure(connection.remoteAddress)
        counters.authRateLimited += 1
        refuse(
          connection,
          hello,
          'rate_limited',
          'too many devices are waiting for approval; try again later',
          WAITING_FULL_RETRY_AFTER_MS,
        )
        return
      }
      connection.state = 'pairing'
      connection.deviceName = device.name
      const request = await deps.store().request(
        {
          deviceName: device.name,
          platform: device.platform ?? null,
          remoteAddress: connection.remoteAddress,
          // The hub checked that the did is the key's before the device got here.
          identity: hello.auth?.identity ?? null,
          publicKey: hello.pairing?.publicKey ?? null,
          ttlMs: Math.round(config.deviceRequestTtl * 1000),
        },
        now(),
      )
      // It may have gone while the store wrote; the request then just expires.
      if (connection.state !== 'pairing') return
      const delay = Math.max(0, request.expiresAt - now())
      const timer = setTimeout(() => {
        const entry = release(request.id)
        if (entry !== undefined) end(entry, 'pairing_expired', 'the pairing request was not approved in time')
      }, delay)
      timer.unref()
      waiting.set(request.id, { connection, hello, version, timer })
      connection.deviceRequestId = request.id
      connection.logger.info({ requestId: request.id }, 'device waiting for pairing approval')
      connection.sendFrame({
        type: 'pairing_pending',
        ...(hello.id === undefined ? {} : { id: hello.id }),
        requestId: request.id,
        expiresAt: request.expiresAt,
      })
    },

    /** The connection closed: stop waiting for it (its request stays until it expires). */
    closed(connection: Connection): void {
      if (connection.deviceRequestId !== undefined) release(connection.deviceRequestId)
    },

    async listPending(): Promise<DeviceRequestInfo[]> {
      return (await deps.store().listPending(now())).map(deviceRequestInfo)
    },

    /**
     * Issues the device's token; a waiting device receives it and is welcomed with it. A device that asked
     * to register an agent identity gets the key registered with the granted role and scopes, and goes
     * through the challenge instead of being welcomed on the token.
     */
    async approve(id: string, grant: ApproveDeviceRequest): Promise<DeviceRequestInfo> {
      const request = await pendingRequest(id)
      const identity = request.identity !== null && request.publicKey !== null ? request.identity : undefined
      if (identity !== undefined) {
        // The store returns a revoked key as it is on a repeat registration: approving would not let it in.
        const known = (await deps.agentKeys().list()).find((key) => key.id === identity)
        if (known !== undefined && known.revokedAt !== null)
          throw new GatewayError(
            'conflict',
            `the identity ${identity} was revoked; it cannot be registered again`,
          )
      }
      const tokens = deps.tokens()
      const at = now()
      const created = await tokens.create(
        { name: request.deviceName, role: grant.role, scopes: grant.scopes, subject: request.id },
        at,
      )
      const decided = await deps.store().approve(id, created.record.id, at)
      if (decided === undefined) {
        // Decided or expired in the meantime: the token must not outlive the refusal.
        await tokens.revoke(created.record.id, now())
        throw new GatewayError('conflict', `the device request ${id} was decided or expired meanwhile`)
      }
      if (identity !== undefined && request.publicKey !== null) {
        // After the decision, so a request denied or expired meanwhile registers nothing.
        try {
          await deps.agentKeys().register(
            {
              id: identity,
              publicKey: request.publicKey,
              name: request.deviceName,
              role: grant.role,
              scopes: grant.scopes,
            },
            at,
          )
        } catch (error) {
          await tokens.revoke(created.record.id, now())
          const entry = release(id)
          if (entry !== undefined && entry.connection.state === 'pairing')
            entry.connection.close('internal_error', 'the agent key could not be registered')
          throw error
        }
      }
      const entry = release(id)
      if (entry !== undefined && entry.connection.state === 'pairing') {
        const { connection } = entry
        connection.sendFrame({ type: 'pairing_approved', requestId: id, token: created.token, deviceId: id })
        if (identity !== undefined) {
          deps.challenge(connection, entry.hello, entry.version, identity)
          return deviceRequestInfo(decided)
        }
        const { record } = created
        await deps
          .admit(connection, entry.hello, entry.version, {
            ok: true,
            principal: { id: record.id, role: record.role, scopes: record.scopes },
            tokenId: record.id,
            expiresAt: record.expiresAt ?? undefined,
            metadata: { tokenId: record.id, tokenName: record.name, deviceId: id },
          })
          .catch((error: unknown) => {
            logger.error({ err: error, requestId: id }, 'welcoming an approved device failed')
            if (connection.state === 'pairing') connection.close('internal_error')
          })
      }
      return deviceRequestInfo(decided)
    },

    async deny(id: string): Promise<DeviceRequestInfo> {
      await pendingRequest(id)
      const decided = await deps.store().deny(id, now())
      if (decided === undefined)
        throw new GatewayError('conflict', `the device request ${id} was decided or expired meanwhile`)
      const entry = release(id)
      if (entry !== undefined) end(entry, 'pairing_denied', 'the operator denied the pairing request')
      return deviceRequestInfo(decided)
    },

    /** Clears every expiry timer (the gateway is stopping; the connections are closed by the drain). */
    stop(): void {
      for (const id of [...waiting.keys()]) release(id)
    },

    get waiting(): number {
      return waiting.size
    },
  }
}

export type DevicePairing = ReturnType<typeof createDevicePairing>
