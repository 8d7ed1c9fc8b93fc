import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  base58BtcDecode,
  base58BtcEncode,
  base64UrlDecode,
  base64UrlEncode,
  ed25519DidKey,
  ed25519KeyFromDidKey,
} from './encoding.js'

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'))
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

describe('base58btc', () => {
  // Bitcoin Core's src/test/data/base58_encode_decode.json.
  const bitcoinVectors: Array<[string, string]> = [
    ['', ''],
    ['61', '2g'],
    ['626262', 'a3gV'],
    ['636363', 'aPEr'],
    ['73696d706c792061206c6f6e6720737472696e67', '2cFupjhnEsSn59qHXstmK2ffpLv2'],
    ['00eb15231dfceb60925886b67d065299925915aeb172c06647', '1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L'],
    ['516b6fcd0f', 'ABnLTmg'],
    ['bf4f89001e670274dd', '3SEo3LWLoPntC'],
    ['572e4794', '3EFU7m'],
    ['ecac89cad93923c02321', 'EJDM8drfXA6uyA'],
    ['10c8511e', 'Rt5zm'],
    ['00000000000000000000', '1111111111'],
  ]

  it.each(bitcoinVectors)('encodes and decodes the Bitcoin Core vector %s', (bytes, text) => {
    expect(base58BtcEncode(hex(bytes))).toBe(text)
    expect(base58BtcDecode(text)).toEqual(hex(bytes))
  })

  it('matches the multibase spec test strings (z prefix stripped), leading zero bytes included', () => {
    expect(base58BtcEncode(utf8('yes mani !'))).toBe('7paNL19xttacUY')
    expect(base58BtcEncode(utf8('\0yes mani !'))).toBe('17paNL19xttacUY')
    expect(base58BtcEncode(utf8('\0\0yes mani !'))).toBe('117paNL19xttacUY')
    expect(base58BtcEncode(utf8('hello world'))).toBe('StV1DL6CwTryKyV')
  })

  it('refuses characters outside the alphabet (0, O, I, l, non-ASCII)', () => {
    for (const text of ['0abc', 'abOc', 'Iabc', 'abcl', 'abc é', 'ab c'])
      expect(base58BtcDecode(text)).toBeUndefined()
  })

  it('round-trips random byte strings', () => {
    for (let length = 0; length < 70; length++) {
      const bytes = Uint8Array.from(randomBytes(length))
      if (length % 5 === 0 && length > 0) bytes[0] = 0
      expect(base58BtcDecode(base58BtcEncode(bytes))).toEqual(bytes)
    }
  })
})

describe('base64url', () => {
  // RFC 4648 §10, unpadded.
  it.each([
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy'],
  ])('encodes and decodes the RFC 4648 vector %j', (plain, text) => {
    expect(base64UrlEncode(utf8(plain))).toBe(text)
    expect(base64UrlDecode(text)).toEqual(utf8(plain))
  })

  it('uses - and _ and agrees with Node for random byte strings', () => {
    expect(base64UrlEncode(Uint8Array.of(0xfb, 0xff))).toBe('-_8')
    for (let length = 0; length < 70; length++) {
      const bytes = Uint8Array.from(randomBytes(length))
      const text = Buffer.from(bytes).toString('base64url')
      expect(base64UrlEncode(bytes)).toBe(text)
      expect(base64UrlDecode(text)).toEqual(bytes)
    }
  })

  it('refuses padding, standard base64 characters, whitespace, impossible lengths and non-zero spare bits', () => {
    for (const text of ['Zg==', '+/8', 'Zm9 v', 'Zm9vY', 'Zh', 'Zm9']) {
      expect(base64UrlDecode(text), text).toBeUndefined()
    }
  })
})

describe('Ed25519 did:key', () => {
  // RFC 8032 test 1 public key and its did:key (W3C did:key test vector format, z6Mk… for Ed25519).
  const key = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')

  it('encodes a raw key as did:key:z6Mk… and decodes it back to the same bytes', () => {
    const did = ed25519DidKey(key)
    expect(did.startsWith('did:key:z6Mk')).toBe(true)
    expect(ed25519KeyFromDidKey(did)).toEqual(key)
  })

  it('refuses another prefix, bad base58, another multicodec and a wrong key length', () => {
    const did = ed25519DidKey(key)
    const otherCodec = `did:key:z${base58BtcEncode(Uint8Array.from([0xec, 0x01, ...key]))}`
    const short = `did:key:z${base58BtcEncode(Uint8Array.from([0xed, 0x01, ...key.slice(1)]))}`
    for (const text of [did.replace('did:key:', 'did:web:'), 'did:key:z0OIl', otherCodec, short]) {
      expect(ed25519KeyFromDidKey(text), text).toBeUndefined()
    }
  })
})
