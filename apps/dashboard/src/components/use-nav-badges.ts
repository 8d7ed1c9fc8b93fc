'use client'

import { useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { browserQueries } from '@/lib/browser-api'
import {
  DEAD_LETTERS_SEEN_KEY,
  newDeadLetters,
  nextDeadLettersSeen,
  parseSeen,
  pendingPairingCount,
} from '@/lib/nav-badges'

export interface NavBadgeCounts {
  /** Chat senders and devices waiting for a decision. */
  pairing: number
  /** Dead letters added since this browser last had the Deliveries page open (lib/nav-badges.ts). */
  deliveries: number
}

/** The navigation's counts, from the same live queries the Pairing and Deliveries pages use. */
export function useNavBadges(pathname: string): NavBadgeCounts {
  const pairing = useQuery(browserQueries.pairing()).data
  const devices = useQuery(browserQueries.devices()).data
  const stats = useQuery(browserQueries.deliveryStats()).data
  // Read after hydration: the server has no localStorage, and its render must match the first client one.
  const [seen, setSeen] = useState<number | null | undefined>(undefined)
  const current = stats?.ok ? stats.data.deadLetters : undefined
  const looking = pathname.startsWith('/deliveries')

  useEffect(() => {
    if (current === undefined) return
    const stored = parseSeen(window.localStorage.getItem(DEAD_LETTERS_SEEN_KEY))
    const next = nextDeadLettersSeen(current, stored, looking)
    if (next !== null && next !== stored) window.localStorage.setItem(DEAD_LETTERS_SEEN_KEY, String(next))
    setSeen(next)
  }, [current, looking])

  return {
    pairing: pendingPairingCount(
      pairing?.ok ? pairing.data.pending.length : undefined,
      devices?.ok ? devices.data.devices.filter((device) => device.status === 'pending').length : undefined,
    ),
    deliveries: current === undefined || seen === undefined ? 0 : newDeadLetters(current, seen),
  }
}
