import type { NextConfig } from 'next'

const nextConfig: NextConfig = {
  // The protocol package is consumed from its TypeScript source (no build step inside the monorepo). The
  // dashboard imports only `@parley/protocol/admin` (the HTTP schemas and the endpoint table, whose files import
  // each other as `#admin/*`, never `./x.js`): Turbopack cannot yet map NodeNext-style `./x.js` specifiers to
  // `.ts` files (vercel/next.js#82945).
  transpilePackages: ['@parley/protocol'],
  // A self-contained server (`.next/standalone`, only the traced node_modules) for the container image; see
  // deploy/Dockerfile. `next start` still works as before.
  output: 'standalone',
  poweredByHeader: false,
  reactStrictMode: true,
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          // An admin console has no reason to be framed or to leak URLs to other sites. The
          // Content-Security-Policy is set per request by src/proxy.ts (it carries a fresh script nonce).
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'same-origin' },
        ],
      },
    ]
  },
}

export default nextConfig
