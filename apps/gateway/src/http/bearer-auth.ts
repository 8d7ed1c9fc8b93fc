import type { Context } from 'hono'
import type { AuthRequest } from '../auth/auth-provider.js'
import type { Refused } from '../auth/authenticator.js'
import { bearerToken } from '../security/secrets.js'
import type { ClientAddressResolver } from './client-address.js'
import type { GatewayEnv } from './create-app.js'
import { errorResponse } from './error-envelope.js'

/**
 * An HTTP request as the credential check sees it: its bearer token, client address (see
 * client-address.ts: a trusted proxy's or the dashboard's word for it, else the socket's) and origin.
 */
export function httpAuthRequest(c: Context<GatewayEnv>, clientAddress: ClientAddressResolver): AuthRequest {
  const token = bearerToken(c.req.header('authorization'))
  const { address, relayedBy } = clientAddress(c)
  return {
    ...(token === undefined ? {} : { token }),
    ...(relayedBy === undefined ? {} : { relayedBy }),
    remoteAddress: address,
    origin: c.req.header('origin') ?? null,
    transport: 'http',
  }
}

/** The answer to a refused credential; a 401 names the Bearer `realm` to authenticate against. */
export function refusedResponse(
  c: Context<GatewayEnv>,
  refused: Refused,
  realm: string,
  message = refused.message,
): Response {
  if (refused.code === 'unauthorized') c.header('WWW-Authenticate', `Bearer realm="${realm}"`)
  return errorResponse(c, refused.code, message, refused.retryAfterMs)
}
