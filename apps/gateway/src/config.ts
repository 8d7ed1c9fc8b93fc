import { join } from 'node:path'
import { z } from 'zod'
import { CaptureConfigSchema } from './config/capture-schema.js'
import { CONFIG_SOURCES } from './config/config-sources.js'
import {
  AddressBlocksSchema,
  booleanOption,
  LOG_LEVELS,
  MiB,
  numberOption,
  positiveInt,
  positiveSeconds,
} from './config/option-schemas.js'
import {
  A2aConfigSchema,
  AgentsConfigSchema,
  AuditConfigSchema,
  DeliveryConfigSchema,
  HistoryConfigSchema,
  HttpConfigSchema,
  JwtConfigSchema,
  McpConfigSchema,
  McpUpstreamsConfigSchema,
  PairingConfigSchema,
  PoliciesConfigSchema,
  PollingConfigSchema,
  PresenceConfigSchema,
  RedisConfigSchema,
  SessionConfigSchema,
  StateConfigSchema,
  StoresConfigSchema,
  TracingConfigSchema,
  UpstreamsConfigSchema,
} from './config/section-schemas.js'

// The schema is split by concern (config/): where options come from, option types, one schema per section.
// This module puts them together and is the one the rest of the gateway imports.
export { CONFIG_SOURCES } from './config/config-sources.js'
export { isAddressBlock } from './config/option-schemas.js'
export * from './config/section-schemas.js'

export const GatewayConfigSchema = z
  .object({
    /** This node's id on the bus; default: generated at start. Must be unique among the nodes. */
    nodeId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,40}$/, 'use 1-40 letters, digits, _ or -')
      .optional(),
    host: z.string().min(1).default('127.0.0.1'),
    port: numberOption('a port number between 0 and 65535')
      .pipe(
        z
          .number()
          .int('must be a whole number')
          .min(0, 'must be between 0 and 65535')
          .max(65535, 'must be between 0 and 65535'),
      )
      .default(8765),
    authToken: z.string().min(1, 'must not be empty').optional(),
    adminToken: z.string().min(1, 'must not be empty').optional(),
    /** Accept clients that present no token, as `anonymous`. Default: true only when no authToken is set. */
    allowAnonymous: booleanOption().optional(),
    /** Failed authentications per remote address within `authFailureWindow` before it is refused. */
    authFailureLimit: positiveInt().default(10),
    /** Seconds of the failed-authentication window. */
    authFailureWindow: positiveSeconds().default(60),
    /**
     * Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` names the client. Empty: the
     * header is ignored and the socket's address is the client's.
     */
    trustedProxies: AddressBlocksSchema.default([]),
    /**
     * Shared with the dashboard server (its `PARLEY_DASHBOARD_SECRET`): a request carrying it may name the
     * browser's address (`X-Parley-Client-Address`), so the failed-auth limit counts each browser apart.
     */
    dashboardSecret: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Seconds a dashboard login (session) lasts. */
    dashboardSessionTtl: positiveSeconds().default(12 * 60 * 60),
    jwt: JwtConfigSchema.prefault({}),
    maxConnections: positiveInt().default(1000),
    /** Seconds between heartbeats; fractions are allowed (tests use them). */
    heartbeatInterval: positiveSeconds().default(30),
    /** Seconds a client may take to come back before its session is forgotten. */
    reconnectTimeout: numberOption('a number of seconds')
      .pipe(z.number().nonnegative('must not be negative'))
      .default(60),
    session: SessionConfigSchema.default({ timeout: 3600, maxMessages: 1000 }),
    sslCert: z.string().min(1).optional(),
    sslKey: z.string().min(1).optional(),
    /** Largest accepted frame in bytes; the transport hard limit is four times this. */
    maxPayload: positiveInt()
      .pipe(z.number().max(256 * MiB, 'must be at most 256 MiB'))
      .default(MiB),
    maxSubscriptions: positiveInt().default(1000),
    /** Outbound bytes a connection may have pending before it is closed as a slow consumer. */
    maxBufferedBytes: positiveInt().default(8 * MiB),
    databaseUrl: z
      .string()
      .regex(/^(memory:\/\/|postgres(ql)?:\/\/)/, 'must start with memory://, postgres:// or postgresql://')
      .optional(),
    dataDir: z.string().min(1).default('./.parley'),
    dashboardUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .default('http://127.0.0.1:3000'),
    /** Browser origins allowed to open a WebSocket; `*` allows any. Defaults to the dashboard's origin. */
    allowedOrigins: z
      .union([z.string(), z.array(z.string())])
      .transform((value) =>
        (Array.isArray(value) ? value : value.split(','))
          .map((origin) => origin.trim())
          .filter((origin) => origin.length > 0),
      )
      .optional(),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    /** Seconds a new connection has to send `hello`. */
    handshakeTimeout: positiveSeconds().default(10),
    // `prefault` parses `{}`, so the defaults of each field apply (a zod `default` would skip them).
    delivery: DeliveryConfigSchema.prefault({}),
    history: HistoryConfigSchema.prefault({}),
    pairing: PairingConfigSchema.prefault({}),
    presence: PresenceConfigSchema.prefault({}),
    polling: PollingConfigSchema.prefault({}),
    http: HttpConfigSchema.prefault({}),
    redis: RedisConfigSchema.prefault({}),
    /** Seconds an agent that stopped heartbeating stays listed (as `inactive`) before it is removed. */
    agentTimeout: positiveSeconds().default(300),
    agents: AgentsConfigSchema.prefault({}),
    policies: PoliciesConfigSchema.prefault({}),
    state: StateConfigSchema.prefault({}),
    a2a: A2aConfigSchema.prefault({}),
    mcpUpstreams: McpUpstreamsConfigSchema.prefault({}),
    upstreams: UpstreamsConfigSchema.prefault({}),
    mcp: McpConfigSchema.prefault({}),
    stores: StoresConfigSchema.prefault({}),
    audit: AuditConfigSchema.prefault({}),
    capture: CaptureConfigSchema.prefault({}),
    tracing: TracingConfigSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    if (
      config.delivery.storeBackend === 'redis' &&
      config.redis.url === undefined &&
      config.redis.host === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['delivery', 'storeBackend'],
        message: 'redis needs redis.url or redis.host (PARLEY_REDIS_URL)',
      })
    }
    if (redisEnabled(config) && config.delivery.storeBackend === 'memory') {
      // Every node would number each channel on its own: offsets would clash and recovery across nodes fail.
      ctx.addIssue({
        code: 'custom',
        path: ['delivery', 'storeBackend'],
        message:
          'with Redis configured (several nodes) the store must be shared: use postgres or redis, not memory',
      })
    }
    if (config.http.headersTimeout > config.http.requestTimeout) {
      ctx.addIssue({
        code: 'custom',
        path: ['http', 'headersTimeout'],
        message: 'must not be longer than http.requestTimeout',
      })
    }
    if ((config.sslCert === undefined) !== (config.sslKey === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [config.sslCert === undefined ? 'sslCert' : 'sslKey'],
        message: 'sslCert and sslKey must be given together',
      })
    }
  })
  .transform((config) => ({
    ...config,
    allowedOrigins: config.allowedOrigins ?? [new URL(config.dashboardUrl).origin],
    allowAnonymous: config.allowAnonymous ?? config.authToken === undefined,
  }))

export type GatewayConfig = z.output<typeof GatewayConfigSchema>
export type DeliveryConfig = GatewayConfig['delivery']
export type HistoryConfig = GatewayConfig['history']
export type PairingConfig = GatewayConfig['pairing']
export type PresenceConfig = GatewayConfig['presence']
export type PollingConfig = GatewayConfig['polling']
export type HttpConfig = GatewayConfig['http']
export type RedisConfig = GatewayConfig['redis']
export type AgentsConfig = GatewayConfig['agents']
export type PoliciesConfig = GatewayConfig['policies']
export type StateConfig = GatewayConfig['state']
export type CaptureConfig = GatewayConfig['capture']

/** Whether the configuration asks for Redis (and so for the cluster bus). */
export function redisEnabled(config: Pick<GatewayConfig, 'redis'>): boolean {
  return config.redis.url !== undefined || config.redis.host !== undefined
}
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>

/** A configuration value was missing or invalid; the message names every bad option and where to set it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** Validates and fills in defaults. Throws `ConfigError` with one line per bad option. */
export function parseConfig(input: GatewayConfigInput = {}): GatewayConfig {
  const result = GatewayConfigSchema.safeParse(input)
  if (result.success) return result.data
  const lines = result.error.issues.map((issue) => {
    const key = issue.path.join('.')
    // An item of a list option (`trustedProxies.0`) is set where the list is.
    const option = issue.path.filter((segment) => typeof segment !== 'number').join('.')
    const source = CONFIG_SOURCES[option as keyof typeof CONFIG_SOURCES]
    const where = source ? ` (${[source.flag, source.env].filter(Boolean).join(' or ')})` : ''
    return `  - ${key || '(config)'}${where}: ${issue.message}`
  })
  return throwConfigError(`Invalid configuration:\n${lines.join('\n')}`)
}

function throwConfigError(message: string): never {
  throw new ConfigError(message)
}

/** Loopback hosts are reachable from this machine only, so running them without a token is safe. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  return (
    bare === 'localhost' ||
    bare === '::1' ||
    /^127(\.\d{1,3}){3}$/.test(bare) ||
    /^::ffff:127(\.\d{1,3}){3}$/i.test(bare)
  )
}

/**
 * Fails closed: a gateway reachable from the network must not let anyone in without a credential. Off
 * loopback it needs a shared auth token, or anonymous access turned off (API tokens or JWTs only).
 */
export function assertSafeBind(config: Pick<GatewayConfig, 'host' | 'authToken' | 'allowAnonymous'>): void {
  if (config.authToken !== undefined || !config.allowAnonymous || isLoopbackHost(config.host)) return
  throwConfigError(
    `Refusing to listen on ${config.host} without an auth token while anonymous clients are allowed: any machine ` +
      'that can reach it could connect. Set a token with --auth-token <token> or PARLEY_AUTH_TOKEN, or require ' +
      'API tokens / JWTs with --allow-anonymous false (PARLEY_ALLOW_ANONYMOUS=false), or bind to 127.0.0.1 ' +
      '(--host 127.0.0.1).',
  )
}

/** Where the audit checkpoints go and which key signs them: the configured paths, else in the data folder. */
export function auditCheckpointPaths(config: Pick<GatewayConfig, 'audit' | 'dataDir'>): {
  dir: string
  signingKeyFile: string
} {
  return {
    dir: config.audit.checkpointDir ?? join(config.dataDir, 'audit-checkpoints'),
    signingKeyFile: config.audit.signingKeyFile ?? join(config.dataDir, 'audit-signing-key.pem'),
  }
}
