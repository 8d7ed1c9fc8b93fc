import { describe, expect, it } from 'vitest'
import { CLOSE_CODES, shouldReconnect } from './close-codes.js'
import { ERROR_CODES } from './errors.js'
import { ErrorFrame } from './frames.js'
import { protocolJsonSchema } from './json-schema.js'
import { parseClientFrame } from './parse.js'
import { negotiateVersion } from './version.js'

describe('parseClientFrame', () => {
  it('accepts a valid publish frame', () => {
    const result = parseClientFrame(
      JSON.stringify({ type: 'publish', id: 'r1', channel: 'alerts', data: { a: 1 } }),
    )
    expect(result).toEqual({
      ok: true,
      frame: { type: 'publish', id: 'r1', channel: 'alerts', data: { a: 1 } },
    })
  })

  it('reports text that is not JSON as invalid_json', () => {
    const result = parseClientFrame('{not json')
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error.code).toBe('invalid_json')
  })

  it('reports an unknown type as unknown_type and keeps the request id', () => {
    const result = parseClientFrame(JSON.stringify({ type: 'teleport', id: 'r9' }))
    expect(result).toMatchObject({ ok: false, id: 'r9', error: { code: 'unknown_type', retryable: false } })
  })

  it('does not carry back an id the error frame could not hold (empty or too long)', () => {
    for (const id of ['', 'x'.repeat(65), 7]) {
      const result = parseClientFrame(JSON.stringify({ type: 'hello', id, protocol: { min: 1, max: 1 } }))
      expect(result.ok).toBe(false)
      if (!result.ok) {
        expect(result.id).toBeUndefined()
        expect(ErrorFrame.safeParse({ type: 'error', ...result.error }).success).toBe(true)
      }
    }
  })

  it('reports wrong field types as invalid_frame naming the field', () => {
    const result = parseClientFrame(JSON.stringify({ type: 'subscribe', id: 'r2', channel: 42 }))
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.error.code).toBe('invalid_frame')
      expect(result.error.message).toContain('channel')
      expect(result.id).toBe('r2')
    }
  })

  it('rejects a publish without data', () => {
    const result = parseClientFrame(JSON.stringify({ type: 'publish', id: 'r3', channel: 'a' }))
    expect(result.ok).toBe(false)
  })

  it('rejects channel names with markup or SQL characters', () => {
    for (const channel of ['<script>', "a'; drop table audit; --", 'has space', '$system']) {
      const result = parseClientFrame(JSON.stringify({ type: 'subscribe', id: 'r', channel }))
      expect(result.ok, channel).toBe(false)
    }
  })

  it('rejects arrays and primitives as frames', () => {
    for (const text of ['[]', '1', 'null', '"hello"']) {
      expect(parseClientFrame(text).ok, text).toBe(false)
    }
  })
})

describe('negotiateVersion', () => {
  it('picks the highest version both sides speak', () => {
    expect(negotiateVersion({ min: 1, max: 3 }, { min: 1, max: 2 })).toBe(2)
  })
  it('returns undefined when the ranges do not overlap', () => {
    expect(negotiateVersion({ min: 3, max: 4 }, { min: 1, max: 2 })).toBeUndefined()
  })
})

describe('tables', () => {
  it('gives every close code a distinct number', () => {
    const numbers = Object.values(CLOSE_CODES).map((entry) => entry.code)
    expect(new Set(numbers).size).toBe(numbers.length)
  })
  it('does not reconnect after unauthorized, and does after going away', () => {
    expect(shouldReconnect(CLOSE_CODES.unauthorized.code)).toBe(false)
    expect(shouldReconnect(CLOSE_CODES.going_away.code)).toBe(true)
  })
  it('marks rate limits and overload as retryable', () => {
    expect(ERROR_CODES.rate_limited.retryable).toBe(true)
    expect(ERROR_CODES.server_full.retryable).toBe(true)
    expect(ERROR_CODES.unauthorized.retryable).toBe(false)
  })
})

describe('protocolJsonSchema', () => {
  it('exports both frame unions with every frame type', () => {
    const schema = protocolJsonSchema() as { $defs: { ClientFrame: unknown; ServerFrame: unknown } }
    const text = JSON.stringify(schema.$defs)
    for (const type of ['hello', 'subscribe', 'publish', 'welcome', 'channel_message', 'error', 'shutdown']) {
      expect(text).toContain(`"${type}"`)
    }
  })
})
