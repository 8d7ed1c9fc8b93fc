'use client'

import { QueryClientProvider } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { getQueryClient } from '@/lib/query-client'

export function Providers({ children }: { children: ReactNode }) {
  // Not in state: the browser's client is a module singleton, the server's is per render.
  const queryClient = getQueryClient()
  return <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
}
