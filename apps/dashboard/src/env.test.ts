import { describe, expect, it } from 'vitest'
import { DEFAULT_GATEWAY_URL, readEnv } from './env'

describe('readEnv', () => {
  it('defaults the gateway URL to the local gateway', () => {
    expect(readEnv({})).toEqual({ gatewayUrl: DEFAULT_GATEWAY_URL })
    expect(readEnv({ PARLEY_GATEWAY_URL: '  ' })).toEqual({ gatewayUrl: DEFAULT_GATEWAY_URL })
  })

  it('strips trailing slashes so paths can be appended', () => {
    expect(readEnv({ PARLEY_GATEWAY_URL: 'https://gw.example.com:8443/' }).gatewayUrl).toBe(
      'https://gw.example.com:8443',
    )
  })

  it('rejects a URL that is not http(s) with a message naming the variable', () => {
    expect(() => readEnv({ PARLEY_GATEWAY_URL: 'ftp://gw' })).toThrow(/PARLEY_GATEWAY_URL/)
    expect(() => readEnv({ PARLEY_GATEWAY_URL: 'not a url' })).toThrow(/PARLEY_GATEWAY_URL/)
  })
})
