import { describe, expect, it } from 'vitest'
import { assertSafeBind, auditCheckpointPaths, ConfigError, isLoopbackHost, parseConfig } from './config.js'
import { readEnvConfig } from './env.js'

describe('parseConfig', () => {
  it('fills in the documented defaults', () => {
    expect(parseConfig()).toEqual({
      host: '127.0.0.1',
      port: 8765,
      allowAnonymous: true,
      authFailureLimit: 10,
      authFailureWindow: 60,
      trustedProxies: [],
      dashboardSessionTtl: 43_200,
      jwt: {
        roleClaim: 'role',
        scopesClaim: 'scope',
        principalClaim: 'sub',
        clockTolerance: 5,
        jwksCooldown: 1,
      },
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
      delivery: {
        enabled: true,
        ackTimeout: 30,
        maxRetries: 3,
        retryDelay: 1,
        retryBackoff: 2,
        messageTtl: 86_400,
        storeBackend: 'postgres',
        dedupeWindow: 300,
        maxInflight: 100,
        maxPendingPerRecipient: 10_000,
      },
      history: { size: 1000, ttl: 3600, channels: [] },
      pairing: {
        policies: {},
        defaultPolicy: 'pair',
        allowlist: {},
        codeTtl: 3600,
        maxPending: 100,
        maxFailedAttempts: 5,
        deviceRequestTtl: 300,
        maxWaitingDevices: 100,
      },
      presence: {
        enabled: true,
        heartbeatInterval: 15,
        offlineTimeout: 45,
        broadcastChanges: true,
        broadcastInterval: 1,
        leaveDelay: 15,
      },
      polling: { enabled: true, longPollTimeout: 30, maxBatchSize: 100 },
      http: {
        maxBodySize: 1024 * 1024,
        headersTimeout: 10,
        requestTimeout: 30,
        keepAliveTimeout: 5,
        backlog: 4096,
      },
      redis: { port: 6379, db: 0, prefix: 'parley:', maxConnections: 20 },
      agentTimeout: 300,
      agents: {
        requestTimeout: 30,
        maxRequestTimeout: 600,
        introductionTimeout: 30,
        maxInFlightPerConnection: 1_000,
        maxHops: 16,
        streamWindow: 64,
        maxStreamsPerConnection: 100,
      },
      policies: { default: 'allow', reloadInterval: 5 },
      state: { maxHistoryPerKey: 100, maxValueBytes: 65_536, maxWatchesPerConnection: 100 },
      a2a: {
        taskRetention: 604_800,
        pushAllowInsecureUrls: false,
        pushAllowPrivateAddresses: false,
        pushTimeout: 10,
        orphanSweepInterval: 30,
        externalRefreshInterval: 60,
        externalFetchTimeout: 10,
      },
      upstreams: { reloadInterval: 10 },
      mcp: { enabled: true, listChangedInterval: 1 },
      mcpUpstreams: { refreshInterval: 60, retryInitial: 1, retryMax: 60, timeout: 10 },
      stores: { timeout: 10, preparedStatements: true },
      audit: { enabled: true, checkpointRows: 10_000, checkpointInterval: 60, retention: 0 },
      tracing: { serviceName: 'parley-gateway' },
      capture: { agents: [], policies: [], redact: [], retention: 86_400, maxPayloadBytes: 65_536 },
    })
  })

  it('keeps the delivery defaults for fields a partial delivery section leaves out', () => {
    const config = parseConfig({
      delivery: { maxRetries: 0, storeBackend: 'memory' },
      history: { size: 0 },
    })
    expect(config.delivery).toMatchObject({ maxRetries: 0, storeBackend: 'memory', ackTimeout: 30 })
    expect(config.history).toEqual({ size: 0, ttl: 3600, channels: [] })
  })

  it('rejects invalid delivery and history options, naming where to set them', () => {
    let message = ''
    try {
      parseConfig({
        delivery: {
          maxRetries: -1,
          retryBackoff: 0.5,
          storeBackend: 'sqlite' as 'memory',
          enabled: 'yes' as 'true',
        },
        history: { size: 1.5, channels: [{ pattern: '' }] },
      })
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      message = (error as Error).message
    }
    expect(message).toContain('delivery.maxRetries (PARLEY_DELIVERY_MAX_RETRIES): must not be negative')
    expect(message).toContain('delivery.retryBackoff (PARLEY_DELIVERY_RETRY_BACKOFF): must be 1 or more')
    expect(message).toContain(
      'delivery.storeBackend (--store-backend or PARLEY_DELIVERY_STORE_BACKEND): must be memory, postgres or redis',
    )
    expect(message).toContain('delivery.enabled (PARLEY_DELIVERY_ENABLED)')
    expect(message).toContain('history.size (PARLEY_HISTORY_SIZE): must be a whole number')
    expect(message).toContain('history.channels.0.pattern')
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

  it('refuses a non-loopback host that would admit anonymous clients, and allows it with a token or without anonymous access', () => {
    expect(() => assertSafeBind({ host: '0.0.0.0', authToken: undefined, allowAnonymous: true })).toThrow(
      /--auth-token.*--allow-anonymous false/,
    )
    expect(() => assertSafeBind({ host: '0.0.0.0', authToken: 'x', allowAnonymous: false })).not.toThrow()
    expect(() =>
      assertSafeBind({ host: '0.0.0.0', authToken: undefined, allowAnonymous: false }),
    ).not.toThrow()
    expect(() =>
      assertSafeBind({ host: '127.0.0.1', authToken: undefined, allowAnonymous: true }),
    ).not.toThrow()
  })

  it('reads trusted proxies as addresses or CIDR blocks and names a bad one', () => {
    expect(parseConfig({ trustedProxies: ' 10.0.0.0/8, ::1 ,192.168.1.7' }).trustedProxies).toEqual([
      '10.0.0.0/8',
      '::1',
      '192.168.1.7',
    ])
    expect(() => parseConfig({ trustedProxies: '10.0.0.0/33' })).toThrow(
      /trustedProxies.*PARLEY_TRUSTED_PROXIES.*"10\.0\.0\.0\/33" is not an IP address or CIDR block/s,
    )
    expect(() => parseConfig({ trustedProxies: ['proxy.local'] })).toThrow(/not an IP address/)
  })

  it('refuses a dashboard secret shorter than 32 characters', () => {
    expect(() => parseConfig({ dashboardSecret: 'short' })).toThrow(
      /dashboardSecret.*PARLEY_DASHBOARD_SECRET/,
    )
  })

  it('allows anonymous clients by default only when no shared auth token is set', () => {
    expect(parseConfig({}).allowAnonymous).toBe(true)
    expect(parseConfig({ authToken: 'x' }).allowAnonymous).toBe(false)
    expect(parseConfig({ authToken: 'x', allowAnonymous: 'true' }).allowAnonymous).toBe(true)
    expect(parseConfig({ allowAnonymous: 'false' }).allowAnonymous).toBe(false)
  })

  it('refuses an http.headersTimeout longer than http.requestTimeout', () => {
    expect(() => parseConfig({ http: { headersTimeout: 60, requestTimeout: 30 } })).toThrow(
      /http.headersTimeout \(PARLEY_HTTP_HEADERS_TIMEOUT\): must not be longer than http.requestTimeout/,
    )
  })

  it('reads the JWT options and refuses a short secret or a non-http JWKS URL', () => {
    expect(parseConfig({ jwt: { secret: 's'.repeat(32), issuer: 'idp' } }).jwt).toEqual({
      secret: 's'.repeat(32),
      issuer: 'idp',
      roleClaim: 'role',
      scopesClaim: 'scope',
      principalClaim: 'sub',
      clockTolerance: 5,
      jwksCooldown: 1,
    })
    expect(() => parseConfig({ jwt: { secret: 'short' } })).toThrow(/jwt.secret \(PARLEY_JWT_SECRET\)/)
    expect(() => parseConfig({ jwt: { jwksUrl: 'ftp://x' } })).toThrow(/jwt.jwksUrl/)
    expect(() => parseConfig({ jwt: { jwksCooldown: 60 } })).toThrow(
      /jwt.jwksCooldown \(PARLEY_JWT_JWKS_COOLDOWN\): must be at most 30 seconds/,
    )
  })

  it('reads pairing policies and allowlists as records or in their environment form, and refuses unknown policies', () => {
    const fromEnv = parseConfig({
      pairing: {
        policies: 'telegram=pair, slack=allowlist',
        allowlist: 'slack:U1,slack:U2,discord:7',
        defaultPolicy: 'deny',
      },
    } as never)
    expect(fromEnv.pairing.policies).toEqual({ telegram: 'pair', slack: 'allowlist' })
    expect(fromEnv.pairing.allowlist).toEqual({ slack: ['U1', 'U2'], discord: ['7'] })
    expect(fromEnv.pairing.defaultPolicy).toBe('deny')
    expect(parseConfig({ pairing: { policies: { web: 'open' } } }).pairing.policies).toEqual({ web: 'open' })
    expect(() => parseConfig({ pairing: { policies: 'telegram=maybe' } } as never)).toThrow(
      /pairing.policies.telegram/,
    )
    expect(() => parseConfig({ pairing: { defaultPolicy: 'maybe' } } as never)).toThrow(
      /pairing.defaultPolicy \(PARLEY_PAIRING_DEFAULT_POLICY\)/,
    )
    expect(() => parseConfig({ pairing: { secret: 'short' } })).toThrow(/pairing.secret/)
    expect(() => parseConfig({ pairing: { publicUrl: 'ftp://x' } })).toThrow(/PARLEY_PUBLIC_URL/)
  })
})

describe('upstreams config', () => {
  it('reads PARLEY_SECRET_KEY as a 32-byte key in hex or base64 and refuses any other', () => {
    const hex = 'ab'.repeat(32)
    expect(parseConfig({ upstreams: { secretKey: hex } }).upstreams.secretKey).toBe(hex)
    const base64 = Buffer.alloc(32, 7).toString('base64')
    expect(parseConfig({ upstreams: { secretKey: base64 } }).upstreams.secretKey).toBe(base64)
    expect(() => parseConfig({ upstreams: { secretKey: 'short' } })).toThrow(
      /upstreams\.secretKey \(PARLEY_SECRET_KEY\): must be 32 bytes/,
    )
  })
})

describe('mcpUpstreams config', () => {
  it('reads the PARLEY_MCP_UPSTREAMS_* variables as seconds and refuses non-positive ones', () => {
    const config = parseConfig(
      readEnvConfig({
        PARLEY_MCP_UPSTREAMS_REFRESH_INTERVAL: '0.5',
        PARLEY_MCP_UPSTREAMS_RETRY_INITIAL: '2',
        PARLEY_MCP_UPSTREAMS_RETRY_MAX: '30',
        PARLEY_MCP_UPSTREAMS_TIMEOUT: '3',
      }),
    )
    expect(config.mcpUpstreams).toEqual({ refreshInterval: 0.5, retryInitial: 2, retryMax: 30, timeout: 3 })
    expect(() => parseConfig({ mcpUpstreams: { refreshInterval: 0 } })).toThrow(
      /mcpUpstreams\.refreshInterval \(PARLEY_MCP_UPSTREAMS_REFRESH_INTERVAL\)/,
    )
  })
})

describe('audit checkpoint options', () => {
  it('reads them from PARLEY_AUDIT_* and puts the key and checkpoints in the data folder by default', () => {
    const config = parseConfig(
      readEnvConfig({
        PARLEY_DATA_DIR: '/var/lib/parley',
        PARLEY_AUDIT_CHECKPOINT_ROWS: '500',
        PARLEY_AUDIT_CHECKPOINT_INTERVAL: '15',
        PARLEY_AUDIT_RETENTION: '2592000',
      }),
    )
    expect(config.audit).toMatchObject({ checkpointRows: 500, checkpointInterval: 15, retention: 2_592_000 })
    expect(auditCheckpointPaths(config)).toEqual({
      dir: '/var/lib/parley/audit-checkpoints',
      signingKeyFile: '/var/lib/parley/audit-signing-key.pem',
    })
    const placed = parseConfig(
      readEnvConfig({
        PARLEY_AUDIT_CHECKPOINT_DIR: '/mnt/worm',
        PARLEY_AUDIT_SIGNING_KEY_FILE: '/etc/parley/key.pem',
      }),
    )
    expect(auditCheckpointPaths(placed)).toEqual({ dir: '/mnt/worm', signingKeyFile: '/etc/parley/key.pem' })
    expect(() => parseConfig({ audit: { checkpointRows: 0 } })).toThrow(
      /audit\.checkpointRows \(PARLEY_AUDIT_CHECKPOINT_ROWS\)/,
    )
  })
})
