'use client'

import { usePathname } from 'next/navigation'
import { useEffect, useRef, useState } from 'react'
import { NavLinks } from './nav-links'
import { ScrollableRegions } from './scrollable-regions'
import { useNavBadges } from './use-nav-badges'

/**
 * The top bar. Wide screens show the navigation, the gateway's address and Log out in one row; narrow ones
 * (phones) fold them behind a Menu button (`aria-expanded`, Escape closes and returns focus to it). The menu
 * is open only on the page it was opened on, so following a link closes it.
 */
export function SiteHeader({ gatewayUrl }: { gatewayUrl: string }) {
  const pathname = usePathname()
  const [openOn, setOpenOn] = useState<string | null>(null)
  const open = openOn === pathname
  const menuButton = useRef<HTMLButtonElement>(null)
  const counts = useNavBadges(pathname)
  const waiting = counts.pairing + counts.deliveries

  // Escape anywhere closes the open menu and puts focus back on its button.
  useEffect(() => {
    if (!open) return
    function closeOnEscape(event: KeyboardEvent) {
      if (event.key !== 'Escape') return
      setOpenOn(null)
      menuButton.current?.focus()
    }
    document.addEventListener('keydown', closeOnEscape)
    return () => document.removeEventListener('keydown', closeOnEscape)
  }, [open])

  return (
    <header className="topbar">
      <ScrollableRegions />
      <span className="brand">Parley</span>
      <button
        ref={menuButton}
        type="button"
        className="button secondary menu-button"
        aria-expanded={open}
        aria-controls="topbar-menu"
        onClick={() => setOpenOn(open ? null : pathname)}
        data-testid="menu-button"
      >
        Menu
        {waiting > 0 ? (
          <span className="nav-badge" data-testid="menu-badge" data-count={waiting}>
            {waiting}
            <span className="visually-hidden"> need attention</span>
          </span>
        ) : null}
      </button>
      <div id="topbar-menu" className={open ? 'topbar-menu open' : 'topbar-menu'} data-testid="topbar-menu">
        <NavLinks counts={counts} />
        <span className="topbar-gateway muted small" title={`Gateway ${gatewayUrl}`}>
          Gateway <code>{gatewayUrl}</code>
        </span>
        <form method="post" action="/api/session/logout">
          <button type="submit" className="button secondary" data-testid="logout-button">
            Log out
          </button>
        </form>
      </div>
    </header>
  )
}
