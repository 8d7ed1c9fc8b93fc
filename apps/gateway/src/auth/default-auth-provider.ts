import type { TokenStore } from '@parley/stores'
import { secretMatches } from '../security/secrets.js'
import type { AuthProvider, AuthResult } from './auth-provider.js'
import { type JwtVerifier, looksLikeJwt } from './jwt-verifier.js'
import { ALL_SCOPES } from './scopes.js'

export interface DefaultAuthProviderOptions {
  /** SHA-256 of the shared `authToken`; undefined when none is configured. */
  authTokenDigest: Buffer | undefined
  /** Accept a request without any token as `anonymous`. */
  allowAnonymous: boolean
  /** The API token store; undefined until the gateway has opened it. */
  tokenStore: () => TokenStore | undefined
  jwt: JwtVerifier | undefined
  now?: () => number
}

/** The secret format of the token store: `pk_<id>_<random>`. */
const API_TOKEN_PREFIX = 'pk_'

function denied(reason: string): AuthResult {
  return { success: false, metadata: { reason } }
}

/**
 * The built-in chain: no token → `anonymous` (when allowed); the shared `authToken` → principal `shared`,
 * role `client`, every scope; a `pk_…` secret → the API token's role and scopes (principal = token id);
 * a JWT → its mapped claims. A presented token that matches nothing is refused, never taken as anonymous.
 */
export function createDefaultAuthProvider(options: DefaultAuthProviderOptions): AuthProvider {
  const now = options.now ?? Date.now
  return {
    async check({ token }) {
      if (token === undefined) {
        if (!options.allowAnonymous) return denied('missing token')
        return { success: true, userId: 'anonymous', role: 'client', scopes: [...ALL_SCOPES] }
      }
      if (options.authTokenDigest !== undefined && secretMatches(token, options.authTokenDigest)) {
        return { success: true, userId: 'shared', role: 'client', scopes: [...ALL_SCOPES] }
      }
      const tokenStore = options.tokenStore()
      if (token.startsWith(API_TOKEN_PREFIX) && tokenStore !== undefined) {
        const record = await tokenStore.verify(token, now())
        if (record === undefined) return denied('unknown, revoked or expired api token')
        return {
          success: true,
          userId: record.id,
          role: record.role,
          scopes: record.scopes,
          metadata: {
            tokenId: record.id,
            tokenName: record.name,
            ...(record.expiresAt === null ? {} : { expiresAt: record.expiresAt }),
          },
        }
      }
      if (options.jwt !== undefined && looksLikeJwt(token)) {
        const verified = await options.jwt.verify(token)
        if (!verified.ok) return denied(verified.reason)
        return {
          success: true,
          userId: verified.jwt.principal,
          role: verified.jwt.role,
          scopes: verified.jwt.scopes,
          metadata: {
            credential: 'jwt',
            ...(verified.jwt.expiresAt === undefined ? {} : { expiresAt: verified.jwt.expiresAt }),
          },
        }
      }
      return denied('wrong token')
    },
  }
}
