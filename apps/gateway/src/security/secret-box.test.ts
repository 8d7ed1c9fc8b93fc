import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createSecretBox, parseSecretKey, SecretBoxError, upstreamSecretKey } from './secret-box.js'

describe('secret box', () => {
  const key = randomBytes(32)
  const box = createSecretBox(key)

  it('opens what it sealed, and seals the same text differently each time', () => {
    const sealed = box.seal('tok-plain ✓', 'a2a:weather')
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/)
    expect(sealed).not.toContain('tok-plain')
    expect(box.open(sealed, 'a2a:weather')).toBe('tok-plain ✓')
    expect(box.seal('tok-plain ✓', 'a2a:weather')).not.toBe(sealed)
  })

  it('refuses a sealed value with any byte changed', () => {
    const sealed = box.seal('secret', 'a2a:weather')
    const [version, nonce, body] = sealed.split('.') as [string, string, string]
    const bytes = Buffer.from(body, 'base64url')
    for (const index of [0, bytes.length - 1]) {
      const changed = Buffer.from(bytes)
      changed[index] = (changed[index] ?? 0) ^ 1
      expect(() => box.open(`${version}.${nonce}.${changed.toString('base64url')}`, 'a2a:weather')).toThrow(
        SecretBoxError,
      )
    }
    const otherNonce = Buffer.from(nonce, 'base64url')
    otherNonce[0] = (otherNonce[0] ?? 0) ^ 1
    expect(() => box.open(`${version}.${otherNonce.toString('base64url')}.${body}`, 'a2a:weather')).toThrow(
      SecretBoxError,
    )
    for (const malformed of ['', 'v1', 'v2.a.b', `${sealed}.x`, 'v1.short.AAAA']) {
      expect(() => box.open(malformed, 'a2a:weather')).toThrow(SecretBoxError)
    }
  })

  it('refuses a value sealed with another key or for another context', () => {
    const sealed = box.seal('secret', 'a2a:weather')
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'a2a:weather')).toThrow(SecretBoxError)
    expect(() => box.open(sealed, 'mcp:weather')).toThrow(SecretBoxError)
  })

  it('takes a 32-byte key only', () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow(RangeError)
  })

  it('reads a configured key as hex or base64, and refuses one of another length', () => {
    const bytes = randomBytes(32)
    expect(Buffer.from(parseSecretKey(bytes.toString('hex')))).toEqual(bytes)
    expect(Buffer.from(parseSecretKey(bytes.toString('base64')))).toEqual(bytes)
    expect(Buffer.from(parseSecretKey(bytes.toString('base64url')))).toEqual(bytes)
    expect(() => parseSecretKey(randomBytes(31).toString('base64'))).toThrow(RangeError)
  })

  it('uses the configured key, else one derived from the pairing secret that is stable for the same secret', () => {
    const configured = randomBytes(32)
    const pairing = new Uint8Array(randomBytes(32))
    expect(Buffer.from(upstreamSecretKey(configured.toString('hex'), pairing))).toEqual(configured)
    const derived = upstreamSecretKey(undefined, pairing)
    expect(derived).toHaveLength(32)
    expect(Buffer.from(derived)).not.toEqual(Buffer.from(pairing))
    expect(upstreamSecretKey(undefined, pairing)).toEqual(derived)
    expect(upstreamSecretKey(undefined, new Uint8Array(randomBytes(32)))).not.toEqual(derived)
  })
})
