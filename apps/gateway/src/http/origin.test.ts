import { describe, expect, it } from 'vitest'
import { isOriginAllowed } from './origin.js'

describe('isOriginAllowed', () => {
  it('allows a listed origin whatever its case or trailing slash', () => {
    expect(isOriginAllowed('http://127.0.0.1:3000', ['http://127.0.0.1:3000'])).toBe(true)
    expect(isOriginAllowed('HTTP://Dash.Example.com', ['http://dash.example.com/'])).toBe(true)
  })

  it('refuses an unlisted origin, including other loopback ports', () => {
    expect(isOriginAllowed('http://127.0.0.1:4000', ['http://127.0.0.1:3000'])).toBe(false)
    expect(isOriginAllowed('http://localhost:3000', ['http://127.0.0.1:3000'])).toBe(false)
    expect(isOriginAllowed('null', ['http://127.0.0.1:3000'])).toBe(false)
  })

  it('allows anything with *', () => {
    expect(isOriginAllowed('https://anywhere.example', ['*'])).toBe(true)
  })
})
