import type { Metadata } from 'next'
import { connection } from 'next/server'
import type { ReactNode } from 'react'
import { Providers } from './providers'
import './globals.css'
import './pages.css'
import './readable.css'
import './screens.css'

export const metadata: Metadata = {
  title: { default: 'Parley dashboard', template: '%s · Parley' },
  description: 'Watch and administer a Parley gateway.',
  robots: { index: false, follow: false },
}

/**
 * Every page is rendered per request (`connection()`): the Content-Security-Policy's script nonce is new
 * for each response, and a page prerendered at build time would carry scripts without it.
 */
export default async function RootLayout({ children }: { children: ReactNode }) {
  await connection()
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  )
}
