import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from './config.js'
import { mergeConfigInputs, readEnvConfig, readEnvValue } from './env.js'

describe('readEnvConfig', () => {
  it('maps every PARLEY_* variable onto its option, nesting the session ones', () => {
    const input = readEnvConfig({
      PARLEY_HOST: '::1',
      PARLEY_PORT: '9000',
      PARLEY_AUTH_TOKEN: 'agent-token',
      PARLEY_ADMIN_TOKEN: 'admin-token',
      PARLEY_MAX_CONNECTIONS: '5',
      PARLEY_HEARTBEAT_INTERVAL: '2.5',
      PARLEY_RECONNECT_TIMEOUT: '7',
      PARLEY_SESSION_TIMEOUT: '60',
      PARLEY_SESSION_MAX_MESSAGES: '10',
      PARLEY_MAX_PAYLOAD: '2048',
      PARLEY_DATABASE_URL: 'memory://',
      PARLEY_DATA_DIR: '/tmp/parley',
      PARLEY_DASHBOARD_URL: 'http://dash.example:3000',
      PARLEY_ALLOWED_ORIGINS: 'http://a.example, http://b.example',
      PARLEY_LOG_LEVEL: 'debug',
      UNRELATED: 'x',
    })
    const config = parseConfig(input)
    expect(config).toMatchObject({
      host: '::1',
      port: 9000,
      authToken: 'agent-token',
      adminToken: 'admin-token',
      maxConnections: 5,
      heartbeatInterval: 2.5,
      reconnectTimeout: 7,
      session: { timeout: 60, maxMessages: 10 },
      maxPayload: 2048,
      databaseUrl: 'memory://',
      dataDir: '/tmp/parley',
      dashboardUrl: 'http://dash.example:3000',
      allowedOrigins: ['http://a.example', 'http://b.example'],
      logLevel: 'debug',
    })
  })

  it('turns the audit off only when PARLEY_AUDIT_ENABLED says so', () => {
    expect(parseConfig(readEnvConfig({})).audit.enabled).toBe(true)
    expect(parseConfig(readEnvConfig({ PARLEY_AUDIT_ENABLED: 'false' })).audit.enabled).toBe(false)
  })

  it('prepares database statements unless PARLEY_STORE_PREPARED_STATEMENTS turns it off', () => {
    expect(parseConfig(readEnvConfig({})).stores.preparedStatements).toBe(true)
    const off = readEnvConfig({ PARLEY_STORE_PREPARED_STATEMENTS: 'false' })
    expect(parseConfig(off).stores.preparedStatements).toBe(false)
  })

  it('nests the delivery and history variables into their sections', () => {
    const config = parseConfig(
      readEnvConfig({
        PARLEY_DELIVERY_ENABLED: 'false',
        PARLEY_DELIVERY_STORE_BACKEND: 'postgres',
        PARLEY_DELIVERY_ACK_TIMEOUT: '0.5',
        PARLEY_DELIVERY_MAX_RETRIES: '0',
        PARLEY_DELIVERY_RETRY_DELAY: '0.1',
        PARLEY_DELIVERY_RETRY_BACKOFF: '3',
        PARLEY_DELIVERY_MESSAGE_TTL: '60',
        PARLEY_DELIVERY_DEDUPE_WINDOW: '30',
        PARLEY_DELIVERY_MAX_INFLIGHT: '7',
        PARLEY_DELIVERY_MAX_PENDING_PER_RECIPIENT: '70',
        PARLEY_HISTORY_SIZE: '0',
        PARLEY_HISTORY_TTL: '5',
      }),
    )
    expect(config.delivery).toEqual({
      enabled: false,
      storeBackend: 'postgres',
      ackTimeout: 0.5,
      maxRetries: 0,
      retryDelay: 0.1,
      retryBackoff: 3,
      messageTtl: 60,
      dedupeWindow: 30,
      maxInflight: 7,
      maxPendingPerRecipient: 70,
    })
    expect(config.history).toEqual({ size: 0, ttl: 5, channels: [] })
  })

  it('treats empty variables as unset', () => {
    expect(readEnvConfig({ PARLEY_PORT: '', PARLEY_AUTH_TOKEN: '  ' })).toEqual({})
  })
})

describe('readEnvConfig with *_FILE variables', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-env-file-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads a secret from the file its *_FILE variable names, without the final newline', async () => {
    const adminTokenFile = join(dir, 'admin-token')
    const databaseUrlFile = join(dir, 'database-url')
    await writeFile(adminTokenFile, 'admin-secret-from-file\n')
    await writeFile(databaseUrlFile, 'postgres://parley:pw@db:5432/parley\n')
    const config = parseConfig(
      readEnvConfig({
        PARLEY_ADMIN_TOKEN_FILE: adminTokenFile,
        PARLEY_DATABASE_URL_FILE: databaseUrlFile,
        PARLEY_PORT: '9000',
      }),
    )
    expect(config).toMatchObject({
      adminToken: 'admin-secret-from-file',
      databaseUrl: 'postgres://parley:pw@db:5432/parley',
      port: 9000,
    })
  })

  it('nests a section option read from a file, such as the Redis password', async () => {
    const passwordFile = join(dir, 'redis-password')
    await writeFile(passwordFile, 'redis-pw')
    const config = parseConfig(
      readEnvConfig({ PARLEY_REDIS_HOST: 'redis', PARLEY_REDIS_PASSWORD_FILE: passwordFile }),
    )
    expect(config.redis).toMatchObject({ host: 'redis', password: 'redis-pw' })
  })

  it('refuses a variable set both directly and through *_FILE, naming both', async () => {
    const file = join(dir, 'token')
    await writeFile(file, 'from-file')
    expect(() => readEnvConfig({ PARLEY_AUTH_TOKEN: 'direct', PARLEY_AUTH_TOKEN_FILE: file })).toThrow(
      /PARLEY_AUTH_TOKEN and PARLEY_AUTH_TOKEN_FILE are both set/,
    )
  })

  it('refuses an unreadable file with a ConfigError naming the variable and the path', () => {
    const missing = join(dir, 'missing')
    let thrown: unknown
    try {
      readEnvConfig({ PARLEY_ADMIN_TOKEN_FILE: missing })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ConfigError)
    expect((thrown as Error).message).toContain(`PARLEY_ADMIN_TOKEN_FILE names ${missing}`)
    expect((thrown as Error).message).toContain('ENOENT')
  })

  it('never puts the file content in an error message', () => {
    const readFile = () => 'not-a-number-secret'
    const attempt = () => parseConfig(readEnvConfig({ PARLEY_PORT_FILE: '/run/secrets/port' }, readFile))
    expect(attempt).toThrow(ConfigError)
    expect(attempt).toThrow(/PARLEY_PORT/)
    expect(attempt).not.toThrow(/not-a-number-secret/)
  })

  it('treats an empty file and an empty *_FILE variable as unset', () => {
    expect(
      readEnvValue({ PARLEY_AUTH_TOKEN_FILE: '/run/secrets/empty' }, 'PARLEY_AUTH_TOKEN', () => '\n'),
    ).toBe(undefined)
    expect(
      readEnvValue({ PARLEY_AUTH_TOKEN: 'direct', PARLEY_AUTH_TOKEN_FILE: ' ' }, 'PARLEY_AUTH_TOKEN'),
    ).toBe('direct')
  })
})

describe('mergeConfigInputs', () => {
  it('lets flags override the environment, option by option', () => {
    const env = readEnvConfig({ PARLEY_PORT: '9000', PARLEY_HOST: '127.0.0.2', PARLEY_SESSION_TIMEOUT: '5' })
    const merged = mergeConfigInputs(env, { port: '9100', session: { maxMessages: 3 } })
    expect(parseConfig(merged)).toMatchObject({
      port: 9100,
      host: '127.0.0.2',
      session: { timeout: 5, maxMessages: 3 },
    })
  })

  it('merges sections such as delivery field by field', () => {
    const env = readEnvConfig({ PARLEY_DELIVERY_ACK_TIMEOUT: '5', PARLEY_DELIVERY_STORE_BACKEND: 'postgres' })
    const merged = mergeConfigInputs(env, { delivery: { storeBackend: 'memory' } })
    expect(parseConfig(merged).delivery).toMatchObject({ ackTimeout: 5, storeBackend: 'memory' })
  })

  it('nests the pairing variables, with the public URL under pairing', () => {
    const config = parseConfig(
      readEnvConfig({
        PARLEY_PAIRING_DEFAULT_POLICY: 'deny',
        PARLEY_PAIRING_POLICIES: 'telegram=pair,slack=allowlist',
        PARLEY_PAIRING_ALLOWLIST: 'slack:U1',
        PARLEY_PAIRING_CODE_TTL: '600',
        PARLEY_PAIRING_MAX_PENDING: '20',
        PARLEY_PAIRING_MAX_FAILED_ATTEMPTS: '3',
        PARLEY_PUBLIC_URL: 'https://parley.example.com',
        PARLEY_PAIRING_SECRET: 's'.repeat(32),
        PARLEY_PAIRING_DEVICE_REQUEST_TTL: '120',
        PARLEY_PAIRING_MAX_WAITING_DEVICES: '10',
      }),
    )
    expect(config.pairing).toEqual({
      defaultPolicy: 'deny',
      policies: { telegram: 'pair', slack: 'allowlist' },
      allowlist: { slack: ['U1'] },
      codeTtl: 600,
      maxPending: 20,
      maxFailedAttempts: 3,
      publicUrl: 'https://parley.example.com',
      secret: 's'.repeat(32),
      deviceRequestTtl: 120,
      maxWaitingDevices: 10,
    })
  })
})
