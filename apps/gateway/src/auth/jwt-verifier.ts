import { ROLES, type Role } from '@parley/protocol'
import {
  createRemoteJWKSet,
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
  /** Epoch ms of `exp`, if the token has one. */
  expiresAt: number | undefined
}

export type JwtVerification = { ok: true; jwt: VerifiedJwt } | { ok: false; reason: string }

export interface JwtVerifier {
  /** Resolves `ok: false` for a token that is not valid; rejects only when the key set cannot be fetched. */
  verify(token: string): Promise<JwtVerification>
}

/** Seconds of clock skew tolerated on `exp` and `nbf`. */
const CLOCK_TOLERANCE_S = 5

/** jose errors that say the key set could not be obtained: a dependency failure, not a bad token. */
const KEY_SET_FAILURES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID'])

/** A JWT is three base64url parts; anything else is not worth a verification attempt. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)
}

/**
 * Bearer JWT verification with jose: HS256 against `jwt.secret`, or any asymmetric algorithm of the keys
 * served at `jwt.jwksUrl` (jose fetches, caches and refreshes the set on an unknown `kid`). Claims map to
 * the principal (`principalClaim`, default `sub`), role (`roleClaim`, default `role`; absent means
 * `client`, an unknown value refuses the token) and scopes (`scopesClaim`, default `scope`: a
 * space-separated string or an array; absent means none). Undefined when no JWT source is configured.
 */
export function createJwtVerifier(config: JwtConfig): JwtVerifier | undefined {
  if (config.secret === undefined && config.jwksUrl === undefined) return undefined
  const secret = config.secret === undefined ? undefined : new TextEncoder().encode(config.secret)
  const keySet = config.jwksUrl === undefined ? undefined : createRemoteJWKSet(new URL(config.jwksUrl))
  const base: JWTVerifyOptions = {
    clockTolerance: CLOCK_TOLERANCE_S,
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
  }

  async function verifySignature(token: string): Promise<JWTPayload> {
    const { alg } = decodeProtectedHeader(token)
    if (alg?.startsWith('HS')) {
      if (secret === undefined) throw new errors.JOSEAlgNotAllowed('HMAC tokens are not accepted')
      return (await jwtVerify(token, secret, { ...base, algorithms: ['HS256'] })).payload
    }
    if (keySet === undefined) throw new errors.JOSEAlgNotAllowed('only HS256 tokens are accepted')
    return (await jwtVerify(token, keySet, base)).payload
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
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    },
  }
}
