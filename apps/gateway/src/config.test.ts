import { describe, expect, it } from 'vitest'
import { assertSafeBind, ConfigError, isLoopbackHost, parseConfig } from './config.js'

describe('parseConfig', () => {
  it('fills in the documented defaults', () => {
    expect(parseConfig()).toEqual({
      host: '127.0.0.1',
      port: 8765,
      maxConnections: 1000,
      heartbeatInterval: 30,
      reconnectTimeout: 60,
      session: { timeout: 3600, maxMessages: 1000 },
      maxPayload: 1024 * 1024,
      maxSubscriptions: 1000,
      maxBufferedBytes: 8 * 1024 * 1024,
      dataDir: './.parley',
      dashboardUrl: 'http://127.0.0.1:3000',
      allowedOrigins: ['http://127.0.0.1:3000'],
      logLevel: 'info',
      handshakeTimeout: 10,
    })
  })

  it('names each invalid option with its flag and environment variable', () => {
    let message = ''
    try {
      parseConfig({ port: 'eighty', maxConnections: 0, logLevel: 'loud' as 'info' })
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      message = (error as Error).message
    }
    expect(message).toContain('port (--port or PARLEY_PORT): must be a port number')
    expect(message).toContain('maxConnections (--max-connections or PARLEY_MAX_CONNECTIONS)')
    expect(message).toContain('logLevel (PARLEY_LOG_LEVEL)')
  })

  it('requires sslCert and sslKey together', () => {
    expect(() => parseConfig({ sslCert: 'cert.pem' })).toThrow(/sslKey.*together/)
    expect(parseConfig({ sslCert: 'cert.pem', sslKey: 'key.pem' })).toMatchObject({ sslCert: 'cert.pem' })
  })

  it('rejects database URLs it cannot open', () => {
    expect(() => parseConfig({ databaseUrl: 'mysql://x' })).toThrow(/databaseUrl.*memory:\/\//)
  })

  it('allows fractional heartbeat intervals and an explicit origin list', () => {
    const config = parseConfig({ heartbeatInterval: 0.05, allowedOrigins: '*' })
    expect(config.heartbeatInterval).toBe(0.05)
    expect(config.allowedOrigins).toEqual(['*'])
  })
})

describe('bind safety', () => {
  it('recognises loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      expect(isLoopbackHost(host)).toBe(true)
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com'])
      expect(isLoopbackHost(host)).toBe(false)
  })

  it('refuses a non-loopback host without a token and allows it with one', () => {
    expect(() => assertSafeBind({ host: '0.0.0.0', authToken: undefined })).toThrow(/--auth-token/)
    expect(() => assertSafeBind({ host: '0.0.0.0', authToken: 'x' })).not.toThrow()
  })
})
