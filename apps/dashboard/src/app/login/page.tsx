import type { Metadata } from 'next'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { readEnv } from '@/env'
import { createGatewayClient } from '@/lib/gateway-client'
import type { LoginError } from '@/lib/session-handlers'
import { LoginForm } from './login-form'

export const metadata: Metadata = { title: 'Log in' }

const MESSAGES: Record<LoginError, string> = {
  missing: 'Enter the admin token.',
  invalid: 'The gateway refused this token.',
  not_admin: 'This token is valid but is not an admin token.',
  unreachable: 'The gateway could not be reached to check the token.',
  gateway: 'The gateway could not check the token. Try again.',
  expired: 'Your session has ended (logged out, expired or revoked). Log in again.',
  rate_limited: 'Too many failed logins from this browser.',
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function messageOf(error: string | undefined, retry: string | undefined): string | undefined {
  if (error === undefined || !Object.hasOwn(MESSAGES, error)) return undefined
  const message = MESSAGES[error as LoginError]
  // A locked-out browser is told for how long (the gateway's Retry-After, in whole seconds).
  const seconds = retry !== undefined && /^\d{1,6}$/.test(retry) ? Number(retry) : undefined
  return seconds === undefined ? message : `${message} Try again in ${seconds} s.`
}

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>
}) {
  const { error, retry } = await searchParams
  const message = messageOf(first(error), first(retry))
  const { gatewayUrl } = readEnv()
  // Say up front when the gateway is down, rather than after the operator has typed the token.
  const health = await createGatewayClient({ baseUrl: gatewayUrl, timeoutMs: 2_000 }).health()
  // One message per failure: when the banner already says the gateway is down, the login error that says
  // the same (it could not be reached to check the token) is left out.
  const sameAsBanner = !health.ok && (first(error) === 'unreachable' || first(error) === 'gateway')

  return (
    <main className="login">
      <div className="login-card">
        <h1>Parley</h1>
        <p className="muted">
          Log in with the gateway&apos;s admin token (<code>PARLEY_ADMIN_TOKEN</code>, or the one printed at
          its first start).
        </p>
        <GatewayErrorBanner failure={health.ok ? undefined : health.failure} />
        {message === undefined || sameAsBanner ? null : (
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
