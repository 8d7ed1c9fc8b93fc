'use client'

import { QueryClientProvider } from '@tanstack/react-query'
import { type ReactNode, useEffect } from 'react'
import { BannerRegistryProvider } from '@/components/banner-registry'
import { getQueryClient } from '@/lib/query-client'

export function Providers({ children }: { children: ReactNode }) {
  // Not in state: the browser's client is a module singleton, the server's is per render.
  const queryClient = getQueryClient()
  // Marks the document once React has hydrated it (end-to-end tests wait for it before typing into forms:
  // a controlled input typed into before hydration is reset to its state).
  useEffect(() => {
    document.documentElement.dataset.hydrated = 'true'
  }, [])
  return (
    <QueryClientProvider client={queryClient}>
      <BannerRegistryProvider>{children}</BannerRegistryProvider>
    </QueryClientProvider>
  )
}
