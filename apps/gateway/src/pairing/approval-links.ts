import { createHmac, timingSafeEqual } from 'node:crypto'
import { base64UrlDecode } from '@parley/protocol'

/** Domain separation: the link key is derived from the pairing secret, never the secret itself. */
const LINK_KEY_CONTEXT = 'parley-pairing-approval-link-v1'

export type LinkCheck =
  | { ok: true; requestId: string; expiresAt: number }
  | { ok: false; reason: 'forged' | 'expired' }

/**
 * Owner approval links: `<base64url(requestId.expiresAt)>.<base64url(HMAC-SHA256)>` with the full 32-byte
 * MAC, so a link cannot be guessed or altered. Single use comes from the store: approval deletes the
 * request, so a second use finds nothing to approve.
 */
export function createApprovalLinks(secret: Uint8Array) {
  const key = createHmac('sha256', secret).update(LINK_KEY_CONTEXT).digest()
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest()

  return {
    sign(requestId: string, expiresAt: number): string {
      const payload = Buffer.from(`${requestId}.${expiresAt}`, 'utf8').toString('base64url')
      return `${payload}.${mac(payload).toString('base64url')}`
    },
    check(token: string, now: number): LinkCheck {
      const dot = token.lastIndexOf('.')
      if (dot <= 0) return { ok: false, reason: 'forged' }
      const payload = token.slice(0, dot)
      // The strict decoder: a MAC spelled another way (padding, spare bits set) is not the link that was signed.
      const presented = base64UrlDecode(token.slice(dot + 1))
      const expected = mac(payload)
      if (presented?.length !== expected.length || !timingSafeEqual(presented, expected)) {
        return { ok: false, reason: 'forged' }
      }
      const text = Buffer.from(payload, 'base64url').toString('utf8')
      const split = text.lastIndexOf('.')
      const requestId = text.slice(0, split)
      const expiresAt = Number(text.slice(split + 1))
      if (split <= 0 || !Number.isSafeInteger(expiresAt)) return { ok: false, reason: 'forged' }
      if (expiresAt <= now) return { ok: false, reason: 'expired' }
      return { ok: true, requestId, expiresAt }
    },
  }
}

export type ApprovalLinks = ReturnType<typeof createApprovalLinks>
