import { setTimeout as delay } from 'node:timers/promises'
import { ROLES, type Role } from '@parley/protocol'
import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose'
import type { GatewayConfig } from '../config.js'

export type JwtConfig = GatewayConfig['jwt']

export interface VerifiedJwt {
  principal: string
  role: Role
  scopes: string[]
  /**
   * Epoch ms after which the token is no longer accepted: `exp` plus the clock tolerance, the same rule as at
   * connect (a token accepted within the tolerance is not closed a moment later). Undefined without `exp`.
   */
  expiresAt: number | undefined
}

export type JwtVerification = { ok: true; jwt: VerifiedJwt } | { ok: false; reason: string }

export interface JwtVerifier {
  /** Resolves `ok: false` for a token that is not valid; rejects only when the key set cannot be fetched. */
  verify(token: string): Promise<JwtVerification>
}

export interface JwtVerifierOptions {
  /** The clock tokens are checked against (tests); default `Date.now`. */
  now?: () => number
}

/** Refetches of the key set one verification may wait for before its unknown key id is final. */
const MAX_KEY_REFETCHES = 3

/** jose errors that say the key set could not be obtained: a dependency failure, not a bad token. */
const KEY_SET_FAILURES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID'])

/** A JWT is three base64url parts; anything else is not worth a verification attempt. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)
}

/**
 * Bearer JWT verification with jose: HS256 against `jwt.secret`, or any asymmetric algorithm of the keys
 * served at `jwt.jwksUrl` (fetched, cached, and refetched on an unknown `kid`: see `keySetVerifier`). Claims
 * map to the principal (`principalClaim`, default `sub`), role (`roleClaim`, default `role`; absent means
 * `client`, an unknown value refuses the token) and scopes (`scopesClaim`, default `scope`: a
 * space-separated string or an array; absent means none). `jwt.clockTolerance` applies to `exp` and `nbf`
 * here and to the `expiresAt` handed on. Undefined when no JWT source is configured.
 */
export function createJwtVerifier(
  config: JwtConfig,
  options: JwtVerifierOptions = {},
): JwtVerifier | undefined {
  if (config.secret === undefined && config.jwksUrl === undefined) return undefined
  const now = options.now ?? Date.now
  const secret = config.secret === undefined ? undefined : new TextEncoder().encode(config.secret)
  const fromKeySet =
    config.jwksUrl === undefined
      ? undefined
      : keySetVerifier(new URL(config.jwksUrl), Math.round(config.jwksCooldown * 1000))
  const base = (): JWTVerifyOptions => ({
    clockTolerance: config.clockTolerance,
    currentDate: new Date(now()),
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
  })

  async function verifySignature(token: string): Promise<JWTPayload> {
    const { alg } = decodeProtectedHeader(token)
    if (alg?.startsWith('HS')) {
      if (secret === undefined) throw new errors.JOSEAlgNotAllowed('HMAC tokens are not accepted')
      return (await jwtVerify(token, secret, { ...base(), algorithms: ['HS256'] })).payload
    }
    if (fromKeySet === undefined) throw new errors.JOSEAlgNotAllowed('only HS256 tokens are accepted')
    return fromKeySet(token, base)
  }

  return {
    async verify(token) {
      let payload: JWTPayload
      try {
        payload = await verifySignature(token)
      } catch (error) {
        if (error instanceof errors.JOSEError && !KEY_SET_FAILURES.has(error.code)) {
          return { ok: false, reason: `jwt refused: ${error.code}` }
        }
        // A malformed header is the token's fault; jose reports it as a plain error in some versions.
        if (error instanceof TypeError && !(error.cause instanceof Error)) {
          return { ok: false, reason: 'jwt refused: malformed' }
        }
        throw error
      }
      return mapClaims(payload, config)
    },
  }
}

/**
 * Verifies against the keys served at `url`. A token whose `kid` the cached set lacks is refused only after a
 * fetch that started after the token arrived: an identity provider that rotated its key is picked up at
 * once, not after jose's default 30 s cooldown, so users with fresh tokens are not refused (and counted as
 * failed logins) meanwhile. Fetches stay at most one per `cooldownMs` whatever key ids attackers make up:
 * a token that arrives within the cooldown waits for its end, and waiting tokens share one fetch.
 */
function keySetVerifier(
  url: URL,
  cooldownMs: number,
): (token: string, options: () => JWTVerifyOptions) => Promise<JWTPayload> {
  let fetchesStarted = 0
  let lastFetchAt = Number.NEGATIVE_INFINITY
  let scheduled: Promise<void> | undefined
  const keySet = createRemoteJWKSet(url, {
    cooldownDuration: cooldownMs,
    [customFetch]: (input, init) => {
      fetchesStarted += 1
      lastFetchAt = Date.now()
      return fetch(input, init)
    },
  })

  function refetchAfterCooldown(): Promise<void> {
    scheduled ??= (async () => {
      const wait = lastFetchAt + cooldownMs - Date.now()
      if (wait > 0) await delay(wait)
      await keySet.reload()
    })().finally(() => {
      scheduled = undefined
    })
    return scheduled
  }

  return async (token, options) => {
    const arrival = fetchesStarted
    for (let refetches = 0; ; refetches += 1) {
      try {
        return (await jwtVerify(token, keySet, options())).payload
      } catch (error) {
        const keyUnknown = error instanceof errors.JWKSNoMatchingKey
        if (!keyUnknown || fetchesStarted > arrival || refetches >= MAX_KEY_REFETCHES) throw error
        await refetchAfterCooldown()
      }
    }
  }
}

function mapClaims(payload: JWTPayload, config: JwtConfig): JwtVerification {
  const principal = payload[config.principalClaim]
  if (typeof principal !== 'string' || principal === '') {
    return { ok: false, reason: `jwt refused: no ${config.principalClaim} claim` }
  }
  const roleClaim = payload[config.roleClaim]
  let role: Role = 'client'
  if (roleClaim !== undefined) {
    if (typeof roleClaim !== 'string' || !(ROLES as readonly string[]).includes(roleClaim)) {
      return { ok: false, reason: `jwt refused: unknown ${config.roleClaim} claim` }
    }
    role = roleClaim as Role
  }
  const scopesClaim = payload[config.scopesClaim]
  const scopes =
    typeof scopesClaim === 'string'
      ? scopesClaim.split(' ').filter((scope) => scope !== '')
      : Array.isArray(scopesClaim)
        ? scopesClaim.filter((scope): scope is string => typeof scope === 'string')
        : []
  return {
    ok: true,
    jwt: {
      principal,
      role,
      scopes,
      expiresAt: typeof payload.exp === 'number' ? (payload.exp + config.clockTolerance) * 1000 : undefined,
    },
  }
}
