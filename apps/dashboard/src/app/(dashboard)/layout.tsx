import { cookies } from 'next/headers'
import { redirect } from 'next/navigation'
import type { ReactNode } from 'react'
import { SiteHeader } from '@/components/site-header'
import { readEnv } from '@/env'
import { SESSION_COOKIE } from '@/lib/session-cookie'

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  // The proxy already redirects without a cookie; checked again here so a page never renders without one.
  if (!(await cookies()).get(SESSION_COOKIE)?.value) redirect('/login')
  const { gatewayUrl } = readEnv()

  return (
    <div className="shell">
      <SiteHeader gatewayUrl={gatewayUrl} />
      <main className="content">{children}</main>
    </div>
  )
}
