import { describe, expect, it } from 'vitest'
import { DEFAULT_GATEWAY_URL, readEnv } from './env'

describe('readEnv', () => {
  it('defaults the gateway URL to the local gateway', () => {
    expect(readEnv({})).toMatchObject({ gatewayUrl: DEFAULT_GATEWAY_URL })
    expect(readEnv({ PARLEY_GATEWAY_URL: '  ' })).toMatchObject({ gatewayUrl: DEFAULT_GATEWAY_URL })
  })

  it('strips trailing slashes so paths can be appended', () => {
    expect(readEnv({ PARLEY_GATEWAY_URL: 'https://gw.example.com:8443/' }).gatewayUrl).toBe(
      'https://gw.example.com:8443',
    )
  })

  it('reads the dashboard secret shared with the gateway and refuses a short one', () => {
    const secret = 'dashboard-secret-0123456789abcdef0123'
    expect(readEnv({ PARLEY_DASHBOARD_SECRET: ` ${secret} ` }).dashboardSecret).toBe(secret)
    expect(readEnv({ PARLEY_DASHBOARD_SECRET: '' }).dashboardSecret).toBeUndefined()
    expect(() => readEnv({ PARLEY_DASHBOARD_SECRET: 'short' })).toThrow(/PARLEY_DASHBOARD_SECRET/)
  })

  it('reads the dashboard secret from the file PARLEY_DASHBOARD_SECRET_FILE names', () => {
    const secret = 'dashboard-secret-0123456789abcdef0123'
    const files: Record<string, string> = { '/run/secrets/dashboard': `${secret}\n` }
    const readFile = (path: string) => {
      const content = files[path]
      if (content === undefined) throw new Error('ENOENT')
      return content
    }
    const env = { PARLEY_DASHBOARD_SECRET_FILE: '/run/secrets/dashboard' }
    expect(readEnv(env, readFile).dashboardSecret).toBe(secret)
    expect(() => readEnv({ PARLEY_DASHBOARD_SECRET_FILE: '/run/secrets/missing' }, readFile)).toThrow(
      /PARLEY_DASHBOARD_SECRET_FILE names \/run\/secrets\/missing/,
    )
    expect(() => readEnv({ ...env, PARLEY_DASHBOARD_SECRET: secret }, readFile)).toThrow(/both set/)
  })

  it('rejects a URL that is not http(s) with a message naming the variable', () => {
    expect(() => readEnv({ PARLEY_GATEWAY_URL: 'ftp://gw' })).toThrow(/PARLEY_GATEWAY_URL/)
    expect(() => readEnv({ PARLEY_GATEWAY_URL: 'not a url' })).toThrow(/PARLEY_GATEWAY_URL/)
  })
})
