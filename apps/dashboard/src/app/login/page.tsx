import type { Metadata } from 'next'
import { GatewayErrorBanner } from '../../components/gateway-error-banner'
import { readEnv } from '../../env'
import { createGatewayClient } from '../../lib/gateway-client'
import type { LoginError } from '../../lib/session-handlers'
import { LoginForm } from './login-form'

export const metadata: Metadata = { title: 'Log in' }

const MESSAGES: Record<LoginError, string> = {
  missing: 'Enter the admin token.',
  invalid: 'The gateway refused this token.',
  not_admin: 'This token is valid but is not an admin token.',
  unreachable: 'The gateway could not be reached to check the token.',
  gateway: 'The gateway could not check the token. Try again.',
  expired: 'Your session has ended (the token was refused). Log in again.',
}

function messageOf(error: string | string[] | undefined): string | undefined {
  const key = Array.isArray(error) ? error[0] : error
  return key !== undefined && Object.hasOwn(MESSAGES, key) ? MESSAGES[key as LoginError] : undefined
}

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>
}) {
  const { error } = await searchParams
  const message = messageOf(error)
  const { gatewayUrl } = readEnv()
  // Say up front when the gateway is down, rather than after the operator has typed the token.
  const health = await createGatewayClient({ baseUrl: gatewayUrl, timeoutMs: 2_000 }).health()

  return (
    <main className="login">
      <div className="login-card">
        <h1>Parley</h1>
        <p className="muted">
          Log in with the gateway&apos;s admin token (<code>PARLEY_ADMIN_TOKEN</code>, or the one printed at
          its first start).
        </p>
        <GatewayErrorBanner failure={health.ok ? undefined : health.failure} />
        {message === undefined ? null : (
          <p role="alert" className="banner banner-warning" data-testid="login-error">
            {message}
          </p>
        )}
        <LoginForm />
        <p className="muted small">
          Gateway: <code>{gatewayUrl}</code>
        </p>
      </div>
    </main>
  )
}
