import { HttpError } from '@parley/protocol'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { limitBody } from './body-limit.js'
import type { GatewayEnv } from './create-app.js'

function appWithLimit(maxBytes: number) {
  const app = new Hono<GatewayEnv>()
  app.use(limitBody({ maxBytes: () => maxBytes, drainTimeoutMs: 1_000 }))
  app.post('/echo', async (c) => c.json({ length: (await c.req.text()).length }))
  return app
}

/** A body of `size` bytes sent as a stream: no Content-Length. */
function streamOf(size: number): RequestInit {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let sent = 0; sent < size; sent += 100)
        controller.enqueue(new Uint8Array(Math.min(100, size - sent)))
      controller.close()
    },
  })
  return { method: 'POST', body, duplex: 'half' } as RequestInit
}

describe('limitBody', () => {
  it('refuses a Content-Length over the limit with 413 payload_too_large', async () => {
    const response = await appWithLimit(10).request('/echo', {
      method: 'POST',
      headers: { 'content-length': '11' },
      body: 'x'.repeat(11),
    })
    expect(response.status).toBe(413)
    expect(HttpError.parse(await response.json()).error).toMatchObject({
      code: 'payload_too_large',
      message: 'request body exceeds 10 bytes',
    })
  })

  it('refuses a streamed body once it passes the limit, though nothing announced its length', async () => {
    const response = await appWithLimit(250).request('/echo', streamOf(1_000))
    expect(response.status).toBe(413)
  })

  it('hands a body within the limit on to the route, streamed or not', async () => {
    const app = appWithLimit(250)
    expect(await (await app.request('/echo', streamOf(250))).json()).toEqual({ length: 250 })
    expect(await (await app.request('/echo', { method: 'POST', body: 'x'.repeat(250) })).json()).toEqual({
      length: 250,
    })
  })
})
