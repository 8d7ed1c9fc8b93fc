import type { IncomingMessage } from 'node:http'
import type { MiddlewareHandler } from 'hono'
import { errorResponse } from './error-envelope.js'
import type { GatewayEnv } from './gateway-env.js'

export interface BodyLimitOptions {
  /** Largest request body in bytes for a path. */
  maxBytes: (path: string) => number
  /** How long the rest of a refused body is read and thrown away before the socket is cut. */
  drainTimeoutMs: number
}

/** Most bytes of a refused body read and thrown away before the socket is cut. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024

/**
 * Bounds every request body before anything reads it. A `Content-Length` over the limit is refused without
 * reading; a chunked body is read up to the limit (then handed on from memory) and refused beyond it. The
 * refusal is a 413 `payload_too_large` in the error envelope, and the rest of the body is read and thrown
 * away (up to 64 MiB, within `drainTimeoutMs`) while the connection stays open: closing a socket that still
 * has unread data makes the kernel reset it, and a client still uploading would then get a socket error
 * instead of the 413.
 */
export function limitBody(options: BodyLimitOptions): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const length = c.req.header('content-length')
    const chunked = c.req.header('transfer-encoding') !== undefined
    const incoming = c.env?.incoming
    // Over HTTP/1.1 a body comes with one of the two headers; a fetch Request (`app.request()`) may have neither.
    if (length === undefined && !chunked && (incoming !== undefined || c.req.raw.body === null)) return next()
    const limit = options.maxBytes(c.req.path)
    const refuse = () => {
      if (incoming !== undefined) drainRefusedBody(incoming, options.drainTimeoutMs)
      return errorResponse(c, 'payload_too_large', `request body exceeds ${limit} bytes`)
    }
    // Node's parser and fetch never deliver more than a valid Content-Length announces.
    if (length !== undefined && !chunked) return Number(length) > limit ? refuse() : next()

    const read =
      incoming === undefined ? await readWebBody(c.req.raw, limit) : await readNodeBody(incoming, limit)
    if (read === 'too_large') return refuse()
    if (read === 'cut_off') return errorResponse(c, 'bad_request', 'the request body was cut off')
    c.req.raw = new Request(c.req.url, {
      method: c.req.method,
      headers: c.req.raw.headers,
      body: read,
    })
    return next()
  }
}

type ReadBody = Uint8Array<ArrayBuffer> | 'too_large' | 'cut_off'

/** Reads a Node request body up to `limit` bytes; beyond, it stops (the caller drains the rest). */
function readNodeBody(incoming: IncomingMessage, limit: number): Promise<ReadBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const finish = (result: ReadBody) => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('close', onClose)
      incoming.pause()
      resolve(result)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) finish('too_large')
      else chunks.push(chunk)
    }
    const onEnd = () => finish(new Uint8Array(Buffer.concat(chunks)))
    const onClose = () => finish('cut_off')
    incoming.on('data', onData)
    incoming.once('end', onEnd)
    incoming.once('close', onClose)
  })
}

/** The same for a fetch `Request` (the app driven with `app.request()`, no Node socket under it). */
async function readWebBody(request: Request, limit: number): Promise<ReadBody> {
  if (request.body === null) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.length
      if (size > limit) {
        await reader.cancel()
        return 'too_large'
      }
      chunks.push(value)
    }
  } catch {
    return 'cut_off'
  }
  return new Uint8Array(Buffer.concat(chunks))
}

/** Reads the rest of a refused body into nothing, so the client can finish its upload and read the answer. */
function drainRefusedBody(incoming: IncomingMessage, timeoutMs: number): void {
  if (incoming.complete || incoming.destroyed) return
  let drained = 0
  const stop = () => {
    clearTimeout(timer)
    incoming.off('data', onData)
    incoming.off('end', stop)
    incoming.off('close', stop)
  }
  const cut = () => {
    stop()
    incoming.socket.destroy()
  }
  const onData = (chunk: Buffer) => {
    drained += chunk.length
    if (drained > DRAIN_MAX_BYTES) cut()
  }
  const timer = setTimeout(cut, timeoutMs)
  timer.unref()
  incoming.on('data', onData)
  incoming.once('end', stop)
  incoming.once('close', stop)
  incoming.resume()
}
