import { cookies, headers } from 'next/headers'
import { redirect } from 'next/navigation'
import { cache } from 'react'
import { readEnv } from '@/env'
import { gatewayClientFor } from './dashboard-gateway'
import type { GatewayClient } from './gateway-client'
import type { GatewayResult } from './gateway-result'
import { makeQueryClient } from './query-client'
import { normaliseSessionSecret, SESSION_COOKIE } from './session-cookie'
import { loginPath } from './session-handlers'

/** Server components only: a gateway client carrying this request's session. */
export async function serverGatewayClient(): Promise<GatewayClient> {
  const [cookieStore, headerStore] = await Promise.all([cookies(), headers()])
  // The same check as the route handlers' `sessionSecretOf`: anything that cannot be a session is none.
  const session = normaliseSessionSecret(cookieStore.get(SESSION_COOKIE)?.value)
  return gatewayClientFor(readEnv(), session, headerStore)
}

/** One query client per server request, shared by the layout and page that render it. */
export const getServerQueryClient = cache(makeQueryClient)

/** A prefetch that met a refused session sends the operator back to the login page. */
export function redirectIfUnauthorized(...results: ReadonlyArray<GatewayResult<unknown> | undefined>): void {
  for (const result of results) {
    if (result !== undefined && !result.ok && result.failure.kind === 'unauthorized') {
      redirect(loginPath('expired'))
    }
  }
}
