import type { PairingDecision } from '@parley/protocol'
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AuthFailureLimiter } from '../auth/auth-failure-limiter.js'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'
import { errorResponse } from '../http/error-envelope.js'
import type { ApprovalLinks } from './approval-links.js'
import type { ChatPairing } from './chat-pairing.js'

export interface ApprovalLinkRouteDeps {
  pairing: ChatPairing
  /** Undefined until the pairing secret is known (the gateway has started). */
  links: () => ApprovalLinks | undefined
  /** Audit row of kind `admin` for an approval made with a link. */
  recordAction: (detail: string, outcome: 'ok' | 'error') => void
  /**
   * Forged links per remote address: past its limit an address is answered 429 before any link is checked,
   * so links cannot be guessed at line speed (nor the audit flooded with their refusals).
   */
  forgeries: AuthFailureLimiter
  now?: () => number
}

/** Who approved, in the paired sender's `approvedBy`. */
export const LINK_APPROVER = 'link'

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character)
}

/**
 * The owner's approval link, outside `/api/admin`: the signed link is the credential. `GET` shows what
 * would be approved and changes nothing (link previews in chat apps fetch it); `POST` approves once. A
 * forged link answers 403, an expired or used one 410, an address past its limit of forged links 429.
 */
export function registerApprovalLinkRoutes(app: GatewayApp, deps: ApprovalLinkRouteDeps): void {
  const now = deps.now ?? Date.now

  function checkLink(c: Context): { requestId: string } {
    const address = c.env?.incoming?.socket.remoteAddress ?? null
    const limit = deps.forgeries.check(address)
    if (!limit.allowed) {
      if (limit.firstRefusal)
        deps.recordAction('pairing approve by link refused: too many forged links', 'error')
      throw new GatewayError(
        'rate_limited',
        'too many invalid approval links from this address',
        limit.retryAfterMs,
      )
    }
    const links = deps.links()
    if (links === undefined) throw new GatewayError('unavailable', 'the gateway is not ready')
    const checked = links.check(c.req.param('token') ?? '', now())
    if (!checked.ok) {
      if (checked.reason === 'forged') {
        deps.forgeries.recordFailure(address)
        throw new GatewayError('forbidden', 'this approval link is not valid')
      }
      throw new GatewayError('pairing_expired', 'this approval link has expired')
    }
    return { requestId: checked.requestId }
  }

  app.get('/pairing/approve/:token', async (c) => {
    try {
      const { requestId } = checkLink(c)
      const request = await deps.pairing.findPending(requestId)
      if (request === undefined)
        throw new GatewayError('pairing_expired', 'this approval link was already used or has expired')
      const who =
        request.displayName === null ? request.channelId : `${request.displayName} (${request.channelId})`
      return page(
        c,
        200,
        'Approve pairing?',
        `<p>Allow <strong>${escapeHtml(who)}</strong> on <strong>${escapeHtml(request.channelType)}</strong> to talk to your agents?</p>
<form method="post"><button type="submit">Approve</button></form>`,
      )
    } catch (error) {
      return failurePage(c, error)
    }
  })

  app.post('/pairing/approve/:token', async (c) => {
    const wantsHtml = (c.req.header('accept') ?? '').includes('text/html')
    try {
      const { requestId } = checkLink(c)
      let decision: PairingDecision
      try {
        decision = await deps.pairing.approveRequest(requestId, LINK_APPROVER)
      } catch (error) {
        if (
          error instanceof GatewayError &&
          (error.code === 'not_found' || error.code === 'pairing_expired')
        ) {
          throw new GatewayError('pairing_expired', 'this approval link was already used or has expired')
        }
        throw error
      }
      deps.recordAction(
        `pairing approve ${decision.requestId ?? '-'} by link (${decision.channelType} ${JSON.stringify(decision.senderId)})`,
        'ok',
      )
      if (!wantsHtml) return c.json(decision)
      return page(
        c,
        200,
        'Approved',
        `<p><strong>${escapeHtml(decision.senderId)}</strong> on <strong>${escapeHtml(decision.channelType)}</strong> may now talk to your agents.</p>`,
      )
    } catch (error) {
      // Refusals by the limit are audited once per address and window, in checkLink.
      if (error instanceof GatewayError && error.code !== 'unavailable' && error.code !== 'rate_limited') {
        deps.recordAction(`pairing approve by link refused: ${error.code}`, 'error')
      }
      if (wantsHtml) return failurePage(c, error)
      throw error
    }
  })
}

function failurePage(c: Context, error: unknown): Response {
  if (!(error instanceof GatewayError)) throw error
  if (error.code === 'unavailable') return errorResponse(c, error.code, error.message)
  if (error.code === 'rate_limited' && error.retryAfterMs !== undefined) {
    c.header('Retry-After', String(Math.ceil(error.retryAfterMs / 1000)))
  }
  const status: ContentfulStatusCode =
    error.code === 'forbidden' ? 403 : error.code === 'rate_limited' ? 429 : 410
  return page(c, status, 'Link not valid', `<p>${escapeHtml(error.message)}</p>`)
}

function page(c: Context, status: ContentfulStatusCode, title: string, body: string): Response {
  // The token is in the URL: keep it out of Referer headers and caches, and the page out of frames.
  c.header('Referrer-Policy', 'no-referrer')
  c.header('Cache-Control', 'no-store')
  c.header('X-Frame-Options', 'DENY')
  c.header(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  )
  return c.html(
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Parley: ${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1.5rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`,
    status,
  )
}
