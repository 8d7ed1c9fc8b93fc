import { cookies } from 'next/headers'
import { redirect } from 'next/navigation'
import type { ReactNode } from 'react'
import { NavLinks } from '@/components/nav-links'
import { readEnv } from '@/env'
import { SESSION_COOKIE } from '@/lib/session-cookie'

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  // The proxy already redirects without a cookie; checked again here so a page never renders without one.
  if (!(await cookies()).get(SESSION_COOKIE)?.value) redirect('/login')
  const { gatewayUrl } = readEnv()

  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Parley</span>
        <NavLinks />
        <span className="topbar-gateway muted small">
          Gateway <code>{gatewayUrl}</code>
        </span>
        <form method="post" action="/api/session/logout">
          <button type="submit" className="button secondary" data-testid="logout-button">
            Log out
          </button>
        </form>
      </header>
      <main className="content">{children}</main>
    </div>
  )
}
