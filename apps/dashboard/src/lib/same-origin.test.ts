import { describe, expect, it } from 'vitest'
import { isSameOriginRequest } from './same-origin'

const host = '127.0.0.1:3000'

describe('isSameOriginRequest', () => {
  it('accepts a form posted by the dashboard itself', () => {
    const headers = new Headers({ host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })
    expect(isSameOriginRequest(headers)).toBe(true)
  })

  it('refuses cross-site and same-site (other subdomain) requests', () => {
    expect(isSameOriginRequest(new Headers({ host, 'sec-fetch-site': 'cross-site' }))).toBe(false)
    expect(isSameOriginRequest(new Headers({ host, 'sec-fetch-site': 'same-site' }))).toBe(false)
  })

  it('refuses an Origin that is not this host, or the opaque "null" origin', () => {
    expect(isSameOriginRequest(new Headers({ host, origin: 'https://evil.example' }))).toBe(false)
    expect(isSameOriginRequest(new Headers({ host, origin: 'http://127.0.0.1:3001' }))).toBe(false)
    expect(isSameOriginRequest(new Headers({ host, origin: 'null' }))).toBe(false)
  })

  it('compares with the forwarded host behind a reverse proxy', () => {
    const headers = new Headers({
      host: '127.0.0.1:3000',
      'x-forwarded-host': 'dash.example.com',
      origin: 'https://dash.example.com',
    })
    expect(isSameOriginRequest(headers)).toBe(true)
  })

  it('lets through a request without browser headers (curl, test clients)', () => {
    expect(isSameOriginRequest(new Headers({ host }))).toBe(true)
  })
})
