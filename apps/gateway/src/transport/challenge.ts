import { type AuthenticateFrame, errorBody, type HelloFrame } from '@parley/protocol'
import type { AgentKeyStore } from '@parley/stores'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import { challengeMessage, createUsedNonces, newNonce, signatureValid } from '../auth/agent-challenge.js'
import type { AuthFailureLimiter } from '../auth/auth-failure-limiter.js'
import type { Authenticated } from '../auth/authenticator.js'
import type { Connection } from '../peers/connection.js'

/** How far the signer's clock may be from ours in an `authenticate` answer. */
export const CHALLENGE_MAX_SKEW_MS = 60_000

type ChallengeRefusal = 'nonce_reused' | 'stale_timestamp' | 'unknown_identity' | 'invalid_signature'

export interface ChallengeOptions {
  audit: ConnectionAudit
  authLimiter: AuthFailureLimiter
  /** Registered agent keys; throws `unavailable` until opened. */
  agentKeys: () => AgentKeyStore
  counters: { authFailures: number; authRateLimited: number }
  /** Welcomes a connection whose signature verified (it must still be handshaking). */
  admit: (connection: Connection, hello: HelloFrame, version: number, outcome: Authenticated) => Promise<void>
  /** The authentication ended, however: the frames held meanwhile are handled. */
  authenticated: (connection: Connection) => void
}

/**
 * The agent identity step of the handshake: a `hello` with `auth.identity` gets a fresh nonce to sign, and
 * the `authenticate` answering it is checked against the registered key.
 */
export function createChallenge(options: ChallengeOptions) {
  const { audit, authLimiter, counters } = options
  const usedNonces = createUsedNonces()

  /** Answers a `hello` with `auth.identity`: a fresh nonce to sign; the handshake waits for `authenticate`. */
  function issue(connection: Connection, frame: HelloFrame, version: number, identity: string): void {
    const limit = authLimiter.check(connection.remoteAddress)
    if (!limit.allowed) {
      counters.authRateLimited += 1
      const message = 'too many failed authentication attempts from this address'
      connection.sendError(errorBody('rate_limited', message, limit.retryAfterMs), frame.id)
      connection.close('unauthorized', message)
      return
    }
    const nonce = newNonce()
    connection.challenge = { identity, nonce, answered: false, hello: frame, version }
    connection.sendFrame({
      type: 'challenge',
      ...(frame.id === undefined ? {} : { id: frame.id }),
      nonce,
      timestamp: Date.now(),
      maxSkewMs: CHALLENGE_MAX_SKEW_MS,
    })
  }

  /**
   * Checks an `authenticate` in a fixed order: the nonce (issued to this connection, not yet used), the
   * timestamp, the key (registered, live), the signature. Any refusal closes with 4001.
   */
  function answer(connection: Connection, frame: AuthenticateFrame): void {
    const challenge = connection.challenge
    if (challenge === undefined) return
    if (challenge.answered || frame.nonce !== challenge.nonce || usedNonces.has(frame.nonce)) {
      refuse(
        connection,
        frame,
        'nonce_reused',
        'the nonce was not issued to this connection or was already used',
      )
      return
    }
    // Spent before anything asynchronous: a second answer racing this one is a replay.
    challenge.answered = true
    usedNonces.add(challenge.nonce)
    if (Math.abs(Date.now() - frame.timestamp) > CHALLENGE_MAX_SKEW_MS) {
      refuse(
        connection,
        frame,
        'stale_timestamp',
        `the signed timestamp is more than ${CHALLENGE_MAX_SKEW_MS} ms from the gateway's clock`,
      )
      return
    }
    if (frame.identity !== challenge.identity) {
      refuse(connection, frame, 'unknown_identity', 'authenticate names another identity than hello')
      return
    }
    connection.authenticating = true
    verify(connection, frame, challenge)
      .catch((error: unknown) => {
        connection.logger.error({ err: error }, 'agent key check failed; refusing the connection')
        if (connection.state !== 'handshaking') return
        counters.authFailures += 1
        connection.sendError(
          errorBody('unavailable', 'the identity could not be checked; try again'),
          frame.id,
        )
        connection.close('internal_error', 'agent key store unavailable')
      })
      .finally(() => options.authenticated(connection))
  }

  async function verify(
    connection: Connection,
    frame: AuthenticateFrame,
    challenge: NonNullable<Connection['challenge']>,
  ): Promise<void> {
    const key = await options.agentKeys().get(frame.identity)
    if (connection.state !== 'handshaking') return
    if (key === undefined) {
      refuse(connection, frame, 'unknown_identity', 'the identity is not registered, or its key was revoked')
      return
    }
    const message = challengeMessage(challenge.nonce, frame.timestamp, frame.identity)
    if (!signatureValid(key.publicKey, message, frame.signature)) {
      refuse(connection, frame, 'invalid_signature', 'the signature does not verify with the registered key')
      return
    }
    await options.admit(connection, challenge.hello, challenge.version, {
      ok: true,
      principal: { id: key.id, role: key.role, scopes: key.scopes },
      tokenId: undefined,
      expiresAt: undefined,
      metadata: { agentKeyId: key.id, agentName: key.name },
    })
  }

  /** Refuses an `authenticate`: counted and audited like any failed authentication, then closed with 4001. */
  function refuse(
    connection: Connection,
    frame: AuthenticateFrame,
    code: ChallengeRefusal,
    message: string,
  ): void {
    counters.authFailures += 1
    authLimiter.recordFailure(connection.remoteAddress)
    audit.authFailure({
      connectionId: connection.id,
      ...(connection.challenge?.hello.clientId === undefined
        ? {}
        : { clientId: connection.challenge.hello.clientId }),
      detail: `${connection.transport}: ${code} for ${frame.identity}${connection.remoteAddress === null ? '' : ` from ${connection.remoteAddress}`}`,
    })
    connection.sendError(errorBody(code, message), frame.id)
    connection.close('unauthorized', message)
  }

  return { issue, answer }
}

export type Challenge = ReturnType<typeof createChallenge>
