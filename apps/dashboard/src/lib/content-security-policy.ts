/**
 * The dashboard's Content-Security-Policy, built per request around a fresh nonce. Scripts run only when
 * they carry the nonce (Next.js puts it on its own scripts when it finds it in the request's CSP header);
 * `'strict-dynamic'` lets those scripts load the chunks they import. No inline event handlers, no `eval`
 * (except under `next dev`, whose tooling needs it), no plugins, no framing, forms post only to us.
 */
export function contentSecurityPolicy(nonce: string, development = false): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${development ? " 'unsafe-eval'" : ''}`,
    // React sets a few style attributes; styles cannot run code.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    // The browser talks only to the dashboard (`/api/gw/*`), never to the gateway directly.
    `connect-src 'self'${development ? ' ws:' : ''}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/** 16 random bytes, base64: unguessable for each response. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return btoa(String.fromCharCode(...bytes))
}
