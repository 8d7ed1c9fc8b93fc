'use client'

import {
  createContext,
  type ReactNode,
  useContext,
  useEffect,
  useId,
  useState,
  useSyncExternalStore,
} from 'react'

/**
 * Which banners are on the page, by message, so the same failure is said once even when several sections
 * (say the Agents page's agents, external agents and grants) each met it. The first banner mounted with a
 * message shows; the others with the same message render nothing until it goes.
 */
export class BannerRegistry {
  private readonly owners = new Map<string, string[]>()
  private readonly listeners = new Set<() => void>()
  private version = 0

  register(message: string, id: string): () => void {
    this.owners.set(message, [...(this.owners.get(message) ?? []), id])
    this.changed()
    return () => {
      const rest = (this.owners.get(message) ?? []).filter((owner) => owner !== id)
      if (rest.length === 0) this.owners.delete(message)
      else this.owners.set(message, rest)
      this.changed()
    }
  }

  /** True unless another banner with this message was mounted first. */
  shows(message: string, id: string): boolean {
    const first = this.owners.get(message)?.[0]
    return first === undefined || first === id
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  snapshot = (): number => this.version

  private changed(): void {
    this.version += 1
    for (const listener of this.listeners) listener()
  }
}

const BannerRegistryContext = createContext<BannerRegistry | undefined>(undefined)

export function BannerRegistryProvider({ children }: { children: ReactNode }) {
  const [registry] = useState(() => new BannerRegistry())
  return <BannerRegistryContext.Provider value={registry}>{children}</BannerRegistryContext.Provider>
}

const NO_VERSION = () => 0
const NO_SUBSCRIPTION = () => () => {}

/** Whether this banner, showing `message` (undefined: nothing), is the one of its message that shows. */
export function useUniqueBanner(message: string | undefined): boolean {
  const registry = useContext(BannerRegistryContext)
  const id = useId()
  useSyncExternalStore(registry?.subscribe ?? NO_SUBSCRIPTION, registry?.snapshot ?? NO_VERSION, NO_VERSION)
  useEffect(() => {
    if (registry === undefined || message === undefined) return
    return registry.register(message, id)
  }, [registry, message, id])
  return registry === undefined || message === undefined || registry.shows(message, id)
}
