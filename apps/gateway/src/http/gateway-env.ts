import type { IncomingMessage } from 'node:http'
import type { Hono } from 'hono'
import type { Principal } from '../auth/auth-provider.js'

/**
 * Bindings of @hono/node-server (absent when the app is driven with `app.request()` in tests), and the
 * variables the admin guard sets: who is calling, and what an admin route did (for its audit row).
 */
export type GatewayEnv = {
  Bindings: { incoming?: IncomingMessage }
  Variables: { principal: Principal; adminAction: string; adminCredential: AdminCredential }
}
export type GatewayApp = Hono<GatewayEnv>

/** What an admin request authenticated with, beyond the principal: its dashboard session or API token. */
export interface AdminCredential {
  dashboardSessionId: string | undefined
  tokenId: string | undefined
  /** When the credential ends (epoch ms), when it does. */
  expiresAt: number | undefined
}
