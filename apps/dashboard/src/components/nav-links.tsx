'use client'

import Link from 'next/link'
import { usePathname } from 'next/navigation'
import type { NavBadgeCounts } from './use-nav-badges'

const LINKS = [
  { href: '/', label: 'Overview', testId: 'nav-overview' },
  { href: '/connections', label: 'Connections', testId: 'nav-connections' },
  { href: '/presence', label: 'Presence', testId: 'nav-presence' },
  { href: '/channels', label: 'Channels', testId: 'nav-channels' },
  { href: '/nodes', label: 'Nodes', testId: 'nav-nodes' },
  { href: '/agents', label: 'Agents', testId: 'nav-agents' },
  { href: '/map', label: 'Map', testId: 'nav-map' },
  { href: '/mcp', label: 'MCP', testId: 'nav-mcp' },
  { href: '/policies', label: 'Policies', testId: 'nav-policies' },
  { href: '/deliveries', label: 'Deliveries', testId: 'nav-deliveries' },
  { href: '/pairing', label: 'Pairing', testId: 'nav-pairing' },
  { href: '/access', label: 'Access', testId: 'nav-access' },
  { href: '/audit', label: 'Audit', testId: 'nav-audit' },
] as const

/** What each badge counts, read by screen readers after the link's name. */
const BADGES: Partial<
  Record<(typeof LINKS)[number]['href'], { count: keyof NavBadgeCounts; label: string }>
> = {
  '/pairing': { count: 'pairing', label: 'waiting for approval' },
  '/deliveries': { count: 'deliveries', label: 'new dead letters' },
}

export function NavLinks({ counts }: { counts: NavBadgeCounts }) {
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
            <NavBadge link={link.href} counts={counts} />
          </Link>
        )
      })}
    </nav>
  )
}

/** A count beside a link (test id `nav-badge-<page>`, the number in `data-count`); nothing when it is zero. */
function NavBadge({ link, counts }: { link: (typeof LINKS)[number]['href']; counts: NavBadgeCounts }) {
  const badge = BADGES[link]
  if (badge === undefined || counts[badge.count] === 0) return null
  const count = counts[badge.count]
  return (
    <span className="nav-badge" data-testid={`nav-badge${link.replace('/', '-')}`} data-count={count}>
      {count}
      <span className="visually-hidden"> {badge.label}</span>
    </span>
  )
}
