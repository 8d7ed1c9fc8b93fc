import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import {
  checkOutboundUrl,
  guardedLookup,
  type OutboundUrlPolicy,
  type ResolveAll,
  resolveAll,
} from './outbound-url.js'

export interface OutboundPostOptions {
  body: Buffer
  headers: Record<string, string>
  policy: OutboundUrlPolicy
  /** Milliseconds the whole exchange may take. */
  timeoutMs: number
  resolve?: ResolveAll
}

/**
 * POSTs a body to a URL a caller gave the gateway, behind the server-side request forgery guard: the URL is
 * checked first (`OutboundUrlRefused`), and the connection goes only to addresses the guard accepted at
 * connect time. No redirect is followed, no connection is reused. Resolves the HTTP status; the answer's body
 * is read and dropped.
 */
export async function postOutbound(urlText: string, options: OutboundPostOptions): Promise<number> {
  const resolve = options.resolve ?? resolveAll
  const url = await checkOutboundUrl(urlText, options.policy, resolve)
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolvePost, reject) => {
    const outgoing = send(url, {
      method: 'POST',
      headers: { ...options.headers, 'content-length': options.body.byteLength },
      lookup: guardedLookup(options.policy, resolve),
      timeout: options.timeoutMs,
      agent: false,
    })
    outgoing.on('response', (response: IncomingMessage) => {
      response.resume()
      response.on('end', () => resolvePost(response.statusCode ?? 0))
      response.on('error', reject)
    })
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${options.timeoutMs} ms`)))
    outgoing.on('error', reject)
    outgoing.end(options.body)
  })
}
