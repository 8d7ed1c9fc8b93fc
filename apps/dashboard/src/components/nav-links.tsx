'use client'

import Link from 'next/link'
import { usePathname } from 'next/navigation'

const LINKS = [
  { href: '/', label: 'Overview', testId: 'nav-overview' },
  { href: '/connections', label: 'Connections', testId: 'nav-connections' },
  { href: '/presence', label: 'Presence', testId: 'nav-presence' },
  { href: '/channels', label: 'Channels', testId: 'nav-channels' },
  { href: '/nodes', label: 'Nodes', testId: 'nav-nodes' },
  { href: '/agents', label: 'Agents', testId: 'nav-agents' },
  { href: '/mcp', label: 'MCP', testId: 'nav-mcp' },
  { href: '/policies', label: 'Policies', testId: 'nav-policies' },
  { href: '/deliveries', label: 'Deliveries', testId: 'nav-deliveries' },
  { href: '/pairing', label: 'Pairing', testId: 'nav-pairing' },
  { href: '/access', label: 'Access', testId: 'nav-access' },
  { href: '/audit', label: 'Audit', testId: 'nav-audit' },
] as const

export function NavLinks() {
  const pathname = usePathname()
  return (
    <nav className="nav" aria-label="Main">
      {LINKS.map((link) => {
        const active = link.href === '/' ? pathname === '/' : pathname.startsWith(link.href)
        return (
          <Link
            key={link.href}
            href={link.href}
            data-testid={link.testId}
            className={active ? 'nav-link active' : 'nav-link'}
            aria-current={active ? 'page' : undefined}
          >
            {link.label}
          </Link>
        )
      })}
    </nav>
  )
}
