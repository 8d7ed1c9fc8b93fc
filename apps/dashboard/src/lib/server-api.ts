import { cookies } from 'next/headers'
import { redirect } from 'next/navigation'
import { cache } from 'react'
import { readEnv } from '../env'
import { createGatewayClient, type GatewayClient } from './gateway-client'
import type { GatewayResult } from './gateway-result'
import { makeQueryClient } from './query-client'
import { normaliseToken, SESSION_COOKIE } from './session-cookie'
import { loginPath } from './session-handlers'

/** Server components only: a gateway client carrying the token of this request's session cookie. */
export async function serverGatewayClient(): Promise<GatewayClient> {
  // The same check as the route handlers' `sessionTokenOf`: anything that cannot be a token is no session.
  const token = normaliseToken((await cookies()).get(SESSION_COOKIE)?.value)
  return createGatewayClient({ baseUrl: readEnv().gatewayUrl, token })
}

/** One query client per server request, shared by the layout and page that render it. */
export const getServerQueryClient = cache(makeQueryClient)

/** A prefetch that met a refused token sends the operator back to the login page. */
export function redirectIfUnauthorized(...results: ReadonlyArray<GatewayResult<unknown> | undefined>): void {
  for (const result of results) {
    if (result !== undefined && !result.ok && result.failure.kind === 'unauthorized') {
      redirect(loginPath('expired'))
    }
  }
}
