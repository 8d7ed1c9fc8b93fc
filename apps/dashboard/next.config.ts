import type { NextConfig } from 'next'

const nextConfig: NextConfig = {
  // The protocol package is consumed from its TypeScript source (no build step inside the monorepo).
  transpilePackages: ['@parley/protocol'],
  turbopack: {
    resolveAlias: {
      // Turbopack cannot yet resolve the NodeNext-style `./admin.js` specifiers of the protocol's index to
      // their `.ts` files (vercel/next.js#82945). The dashboard only uses the HTTP schemas, which live in
      // `admin.ts` (no relative imports), so the bundle takes them from there. Types and tests still go
      // through the package's index; a missing export here fails the build loudly.
      '@parley/protocol': '../../packages/protocol/src/admin.ts',
    },
  },
  poweredByHeader: false,
  reactStrictMode: true,
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          // An admin console has no reason to be framed or to leak URLs to other sites.
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'Content-Security-Policy', value: "frame-ancestors 'none'" },
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'same-origin' },
        ],
      },
    ]
  },
}

export default nextConfig
