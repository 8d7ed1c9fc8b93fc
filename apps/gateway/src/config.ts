import { isIP } from 'node:net'
import { z } from 'zod'

/** Where each option can be set from outside: shown in validation messages so users know what to fix. */
export const CONFIG_SOURCES = {
  host: { flag: '--host', env: 'PARLEY_HOST' },
  port: { flag: '--port', env: 'PARLEY_PORT' },
  authToken: { flag: '--auth-token', env: 'PARLEY_AUTH_TOKEN' },
  adminToken: { flag: '--admin-token', env: 'PARLEY_ADMIN_TOKEN' },
  allowAnonymous: { flag: '--allow-anonymous', env: 'PARLEY_ALLOW_ANONYMOUS' },
  authFailureLimit: { flag: undefined, env: 'PARLEY_AUTH_FAILURE_LIMIT' },
  authFailureWindow: { flag: undefined, env: 'PARLEY_AUTH_FAILURE_WINDOW' },
  trustedProxies: { flag: undefined, env: 'PARLEY_TRUSTED_PROXIES' },
  dashboardSecret: { flag: undefined, env: 'PARLEY_DASHBOARD_SECRET' },
  dashboardSessionTtl: { flag: undefined, env: 'PARLEY_DASHBOARD_SESSION_TTL' },
  'jwt.secret': { flag: undefined, env: 'PARLEY_JWT_SECRET' },
  'jwt.jwksUrl': { flag: undefined, env: 'PARLEY_JWT_JWKS_URL' },
  'jwt.issuer': { flag: undefined, env: 'PARLEY_JWT_ISSUER' },
  'jwt.audience': { flag: undefined, env: 'PARLEY_JWT_AUDIENCE' },
  'jwt.roleClaim': { flag: undefined, env: 'PARLEY_JWT_ROLE_CLAIM' },
  'jwt.scopesClaim': { flag: undefined, env: 'PARLEY_JWT_SCOPES_CLAIM' },
  'jwt.principalClaim': { flag: undefined, env: 'PARLEY_JWT_PRINCIPAL_CLAIM' },
  'jwt.clockTolerance': { flag: undefined, env: 'PARLEY_JWT_CLOCK_TOLERANCE' },
  'jwt.jwksCooldown': { flag: undefined, env: 'PARLEY_JWT_JWKS_COOLDOWN' },
  maxConnections: { flag: '--max-connections', env: 'PARLEY_MAX_CONNECTIONS' },
  heartbeatInterval: { flag: '--heartbeat-interval', env: 'PARLEY_HEARTBEAT_INTERVAL' },
  reconnectTimeout: { flag: undefined, env: 'PARLEY_RECONNECT_TIMEOUT' },
  'session.timeout': { flag: undefined, env: 'PARLEY_SESSION_TIMEOUT' },
  'session.maxMessages': { flag: undefined, env: 'PARLEY_SESSION_MAX_MESSAGES' },
  sslCert: { flag: '--ssl-cert', env: 'PARLEY_SSL_CERT' },
  sslKey: { flag: '--ssl-key', env: 'PARLEY_SSL_KEY' },
  maxPayload: { flag: '--max-payload', env: 'PARLEY_MAX_PAYLOAD' },
  databaseUrl: { flag: '--database-url', env: 'PARLEY_DATABASE_URL' },
  dataDir: { flag: '--data-dir', env: 'PARLEY_DATA_DIR' },
  dashboardUrl: { flag: undefined, env: 'PARLEY_DASHBOARD_URL' },
  allowedOrigins: { flag: undefined, env: 'PARLEY_ALLOWED_ORIGINS' },
  logLevel: { flag: undefined, env: 'PARLEY_LOG_LEVEL' },
  'delivery.enabled': { flag: undefined, env: 'PARLEY_DELIVERY_ENABLED' },
  'delivery.storeBackend': { flag: '--store-backend', env: 'PARLEY_DELIVERY_STORE_BACKEND' },
  'delivery.ackTimeout': { flag: undefined, env: 'PARLEY_DELIVERY_ACK_TIMEOUT' },
  'delivery.maxRetries': { flag: undefined, env: 'PARLEY_DELIVERY_MAX_RETRIES' },
  'delivery.retryDelay': { flag: undefined, env: 'PARLEY_DELIVERY_RETRY_DELAY' },
  'delivery.retryBackoff': { flag: undefined, env: 'PARLEY_DELIVERY_RETRY_BACKOFF' },
  'delivery.messageTtl': { flag: undefined, env: 'PARLEY_DELIVERY_MESSAGE_TTL' },
  'delivery.dedupeWindow': { flag: undefined, env: 'PARLEY_DELIVERY_DEDUPE_WINDOW' },
  'delivery.maxInflight': { flag: undefined, env: 'PARLEY_DELIVERY_MAX_INFLIGHT' },
  'delivery.maxPendingPerRecipient': { flag: undefined, env: 'PARLEY_DELIVERY_MAX_PENDING_PER_RECIPIENT' },
  'history.size': { flag: undefined, env: 'PARLEY_HISTORY_SIZE' },
  'history.ttl': { flag: undefined, env: 'PARLEY_HISTORY_TTL' },
  'pairing.defaultPolicy': { flag: undefined, env: 'PARLEY_PAIRING_DEFAULT_POLICY' },
  'pairing.policies': { flag: undefined, env: 'PARLEY_PAIRING_POLICIES' },
  'pairing.allowlist': { flag: undefined, env: 'PARLEY_PAIRING_ALLOWLIST' },
  'pairing.codeTtl': { flag: undefined, env: 'PARLEY_PAIRING_CODE_TTL' },
  'pairing.maxPending': { flag: undefined, env: 'PARLEY_PAIRING_MAX_PENDING' },
  'pairing.maxFailedAttempts': { flag: undefined, env: 'PARLEY_PAIRING_MAX_FAILED_ATTEMPTS' },
  'pairing.publicUrl': { flag: undefined, env: 'PARLEY_PUBLIC_URL' },
  'pairing.secret': { flag: undefined, env: 'PARLEY_PAIRING_SECRET' },
  'pairing.deviceRequestTtl': { flag: undefined, env: 'PARLEY_PAIRING_DEVICE_REQUEST_TTL' },
  'pairing.maxWaitingDevices': { flag: undefined, env: 'PARLEY_PAIRING_MAX_WAITING_DEVICES' },
  nodeId: { flag: '--node-id', env: 'PARLEY_NODE_ID' },
  'presence.enabled': { flag: undefined, env: 'PARLEY_PRESENCE_ENABLED' },
  'presence.heartbeatInterval': { flag: undefined, env: 'PARLEY_PRESENCE_HEARTBEAT_INTERVAL' },
  'presence.offlineTimeout': { flag: undefined, env: 'PARLEY_PRESENCE_OFFLINE_TIMEOUT' },
  'presence.broadcastChanges': { flag: undefined, env: 'PARLEY_PRESENCE_BROADCAST_CHANGES' },
  'http.maxBodySize': { flag: undefined, env: 'PARLEY_HTTP_MAX_BODY_SIZE' },
  'http.headersTimeout': { flag: undefined, env: 'PARLEY_HTTP_HEADERS_TIMEOUT' },
  'http.requestTimeout': { flag: undefined, env: 'PARLEY_HTTP_REQUEST_TIMEOUT' },
  'http.keepAliveTimeout': { flag: undefined, env: 'PARLEY_HTTP_KEEP_ALIVE_TIMEOUT' },
  'polling.enabled': { flag: undefined, env: 'PARLEY_POLLING_ENABLED' },
  'polling.longPollTimeout': { flag: undefined, env: 'PARLEY_POLLING_LONG_POLL_TIMEOUT' },
  'polling.maxBatchSize': { flag: undefined, env: 'PARLEY_POLLING_MAX_BATCH_SIZE' },
  agentTimeout: { flag: '--agent-timeout', env: 'PARLEY_AGENT_TIMEOUT' },
  'agents.requestTimeout': { flag: undefined, env: 'PARLEY_AGENTS_REQUEST_TIMEOUT' },
  'agents.maxRequestTimeout': { flag: undefined, env: 'PARLEY_AGENTS_MAX_REQUEST_TIMEOUT' },
  'agents.introductionTimeout': { flag: undefined, env: 'PARLEY_AGENTS_INTRODUCTION_TIMEOUT' },
  'agents.maxInFlightPerConnection': { flag: undefined, env: 'PARLEY_AGENTS_MAX_IN_FLIGHT_PER_CONNECTION' },
  'agents.streamWindow': { flag: undefined, env: 'PARLEY_AGENTS_STREAM_WINDOW' },
  'agents.maxStreamsPerConnection': { flag: undefined, env: 'PARLEY_AGENTS_MAX_STREAMS_PER_CONNECTION' },
  'policies.default': { flag: undefined, env: 'PARLEY_POLICIES_DEFAULT' },
  'policies.reloadInterval': { flag: undefined, env: 'PARLEY_POLICIES_RELOAD_INTERVAL' },
  'state.maxHistoryPerKey': { flag: undefined, env: 'PARLEY_STATE_MAX_HISTORY_PER_KEY' },
  'state.maxValueBytes': { flag: undefined, env: 'PARLEY_STATE_MAX_VALUE_BYTES' },
  'state.maxWatchesPerConnection': { flag: undefined, env: 'PARLEY_STATE_MAX_WATCHES_PER_CONNECTION' },
  'a2a.taskRetention': { flag: undefined, env: 'PARLEY_A2A_TASK_RETENTION' },
  'mcpUpstreams.refreshInterval': { flag: undefined, env: 'PARLEY_MCP_UPSTREAMS_REFRESH_INTERVAL' },
  'mcpUpstreams.retryInitial': { flag: undefined, env: 'PARLEY_MCP_UPSTREAMS_RETRY_INITIAL' },
  'mcpUpstreams.retryMax': { flag: undefined, env: 'PARLEY_MCP_UPSTREAMS_RETRY_MAX' },
  'mcpUpstreams.timeout': { flag: undefined, env: 'PARLEY_MCP_UPSTREAMS_TIMEOUT' },
  'a2a.pushAllowInsecureUrls': { flag: undefined, env: 'PARLEY_A2A_PUSH_ALLOW_INSECURE_URLS' },
  'a2a.pushAllowPrivateAddresses': { flag: undefined, env: 'PARLEY_A2A_PUSH_ALLOW_PRIVATE' },
  'a2a.pushTimeout': { flag: undefined, env: 'PARLEY_A2A_PUSH_TIMEOUT' },
  'a2a.oauthTokenUrl': { flag: undefined, env: 'PARLEY_A2A_OAUTH_TOKEN_URL' },
  'a2a.orphanSweepInterval': { flag: undefined, env: 'PARLEY_A2A_ORPHAN_SWEEP_INTERVAL' },
  'a2a.externalRefreshInterval': { flag: undefined, env: 'PARLEY_A2A_EXTERNAL_REFRESH_INTERVAL' },
  'a2a.externalFetchTimeout': { flag: undefined, env: 'PARLEY_A2A_EXTERNAL_FETCH_TIMEOUT' },
  'upstreams.secretKey': { flag: undefined, env: 'PARLEY_SECRET_KEY' },
  'upstreams.reloadInterval': { flag: undefined, env: 'PARLEY_UPSTREAMS_RELOAD_INTERVAL' },
  'mcp.enabled': { flag: undefined, env: 'PARLEY_MCP_ENABLED' },
  'mcp.listChangedInterval': { flag: undefined, env: 'PARLEY_MCP_LIST_CHANGED_INTERVAL' },
  'redis.url': { flag: '--redis-url', env: 'PARLEY_REDIS_URL' },
  'redis.host': { flag: undefined, env: 'PARLEY_REDIS_HOST' },
  'redis.port': { flag: undefined, env: 'PARLEY_REDIS_PORT' },
  'redis.db': { flag: undefined, env: 'PARLEY_REDIS_DB' },
  'redis.password': { flag: undefined, env: 'PARLEY_REDIS_PASSWORD' },
  'redis.prefix': { flag: undefined, env: 'PARLEY_REDIS_PREFIX' },
  'redis.maxConnections': { flag: undefined, env: 'PARLEY_REDIS_MAX_CONNECTIONS' },
  'stores.timeout': { flag: undefined, env: 'PARLEY_STORE_TIMEOUT' },
} as const satisfies Record<string, { flag: string | undefined; env: string }>

const MiB = 1024 * 1024

/** Numbers arrive as numbers from code and as strings from flags and the environment. */
function numberOption(what: string) {
  return z.coerce.number<number | string>({ error: `must be ${what}` })
}
const positiveInt = () =>
  numberOption('a positive whole number').pipe(
    z.number().int('must be a whole number').positive('must be a positive whole number'),
  )
const positiveSeconds = () =>
  numberOption('a positive number of seconds').pipe(
    z.number().positive('must be a positive number of seconds'),
  )

const nonNegativeInt = () =>
  numberOption('a whole number, 0 or more').pipe(
    z.number().int('must be a whole number').nonnegative('must not be negative'),
  )
const nonNegativeSeconds = () =>
  numberOption('a number of seconds').pipe(z.number().nonnegative('must not be negative'))
/** Booleans arrive as booleans from code and as `true`/`false` (or `1`/`0`) from the environment. */
const booleanOption = () =>
  z.union([
    z.boolean(),
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .transform((value) => value === 'true' || value === '1'),
  ])

/** `10.0.0.0/8,::1` (environment) or an array (code): addresses or CIDR blocks, IPv4 or IPv6. */
const AddressBlocksSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(','))
      .map((block) => block.trim())
      .filter((block) => block.length > 0),
  )
  .pipe(
    z.array(
      z.string().refine(isAddressBlock, {
        error: (issue) =>
          `${JSON.stringify(issue.input)} is not an IP address or CIDR block (such as 10.0.0.0/8)`,
      }),
    ),
  )

/** An IP address or `address/prefix`, with a prefix that fits the address family. */
export function isAddressBlock(block: string): boolean {
  const [address = '', prefix, ...rest] = block.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  if (!/^\d{1,3}$/.test(prefix)) return false
  return Number(prefix) <= (family === 4 ? 32 : 128)
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export const SessionConfigSchema = z.object({
  /** Seconds a session is kept. */
  timeout: positiveSeconds().default(3600),
  /** Message history limit per session. */
  maxMessages: positiveInt().default(1000),
})

export const STORE_BACKENDS = ['memory', 'postgres', 'redis'] as const

/** Guaranteed delivery: acks, retries, dead letters, and where deliveries and history are stored. */
export const DeliveryConfigSchema = z.object({
  /** Off: `send` and durable subscribe answer `unavailable`; channel history and recovery still work. */
  enabled: booleanOption().default(true),
  /** Seconds a recipient has to ack a delivery before the attempt counts as failed. */
  ackTimeout: positiveSeconds().default(30),
  /** Retries after the first failed attempt; a delivery is dead-lettered after 1 + maxRetries failures. */
  maxRetries: nonNegativeInt().default(3),
  /** Seconds before the first retry. */
  retryDelay: nonNegativeSeconds().default(1),
  /** Factor applied to the delay of each further retry. */
  retryBackoff: numberOption('a number, 1 or more').pipe(z.number().min(1, 'must be 1 or more')).default(2),
  /** Seconds a message may wait for its recipient before it expires. */
  messageTtl: positiveSeconds().default(86_400),
  /** `redis` needs the `redis` section (or REDIS_URL); `postgres` uses `databaseUrl` (or the embedded one). */
  storeBackend: z.enum(STORE_BACKENDS, { error: 'must be memory, postgres or redis' }).default('memory'),
  /** Seconds an idempotency key is remembered. */
  dedupeWindow: positiveSeconds().default(300),
  /** Unacknowledged deliveries sent to one recipient at a time. */
  maxInflight: positiveInt().default(100),
  /** Deliveries that may wait for one recipient; `send` beyond it answers `rate_limited`. */
  maxPendingPerRecipient: positiveInt().default(10_000),
})

/** Per-channel-pattern retention; `*` matches any run of characters, the first matching pattern wins. */
export const HistoryChannelConfigSchema = z.object({
  pattern: z.string().min(1).max(200),
  size: nonNegativeInt().optional(),
  ttl: positiveSeconds().optional(),
})

/** Channel history kept for recovery (`subscribe.since`). */
export const HistoryConfigSchema = z.object({
  /** Publications kept per channel; 0 keeps none. */
  size: nonNegativeInt().default(1000),
  /** Seconds a publication is kept. */
  ttl: positiveSeconds().default(3600),
  channels: z.array(HistoryChannelConfigSchema).default([]),
})

/**
 * Bearer JWTs (verified with jose): HS256 with `secret`, or the asymmetric keys served at `jwksUrl`.
 * Off while neither is set.
 */
export const JwtConfigSchema = z.object({
  /** Shared HS256 secret; at least 32 characters so it cannot be guessed offline. */
  secret: z.string().min(32, 'must be at least 32 characters').optional(),
  jwksUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** Required `iss`, when set. */
  issuer: z.string().min(1).optional(),
  /** Required `aud`, when set. */
  audience: z.string().min(1).optional(),
  roleClaim: z.string().min(1).default('role'),
  /** A space-separated string or an array of scopes. */
  scopesClaim: z.string().min(1).default('scope'),
  principalClaim: z.string().min(1).default('sub'),
  /** Seconds of clock skew allowed on `exp` and `nbf`, at connect and for the expiry close alike. */
  clockTolerance: nonNegativeSeconds().default(5),
  /**
   * Least seconds between two fetches of `jwksUrl` when tokens name a key id the cached set lacks; such a
   * token may wait this long, hence the cap.
   */
  jwksCooldown: numberOption('a number of seconds')
    .pipe(z.number().nonnegative('must not be negative').max(30, 'must be at most 30 seconds'))
    .default(1),
})

export const PAIRING_POLICIES = ['deny', 'pair', 'allowlist', 'open'] as const
export type PairingPolicy = (typeof PAIRING_POLICIES)[number]
const PairingPolicySchema = z.enum(PAIRING_POLICIES, { error: 'must be deny, pair, allowlist or open' })
const ChannelType = z.string().min(1).max(64)

/** Splits `a=x,b=y` (the environment's form of a record) into pairs; code passes records as they are. */
function keyValueList(text: string, separator: string): Array<[string, string]> {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
    .map((item) => {
      const at = item.indexOf(separator)
      return at === -1 ? [item, ''] : [item.slice(0, at).trim(), item.slice(at + 1).trim()]
    })
}

/** `telegram=pair,slack=allowlist` (environment) or `{ telegram: 'pair' }` (code). */
const PoliciesSchema = z
  .union([z.string(), z.record(z.string(), z.string())])
  .transform((value) => (typeof value === 'string' ? Object.fromEntries(keyValueList(value, '=')) : value))
  .pipe(z.record(ChannelType, PairingPolicySchema))

/** `telegram:48213377,slack:U024BE7LH` (environment) or `{ telegram: ['48213377'] }` (code). */
const AllowlistSchema = z
  .union([z.string(), z.record(z.string(), z.array(z.string()))])
  .transform((value) => {
    if (typeof value !== 'string') return value
    const lists: Record<string, string[]> = {}
    for (const [channelType, senderId] of keyValueList(value, ':')) {
      if (senderId === '') continue
      const list = lists[channelType] ?? []
      list.push(senderId)
      lists[channelType] = list
    }
    return lists
  })
  .pipe(z.record(ChannelType, z.array(z.string().min(1).max(256))))

/** Chat-user pairing for connectors and device pairing. */
export const PairingConfigSchema = z.object({
  /** Policy per channel type (`telegram`, `slack`...). */
  policies: PoliciesSchema.default({}),
  /** Policy of a channel type not named in `policies`. */
  defaultPolicy: PairingPolicySchema.default('pair'),
  /** Senders allowed without pairing under the `allowlist` policy, per channel type. */
  allowlist: AllowlistSchema.default({}),
  /** Seconds a pairing code stays valid. */
  codeTtl: positiveSeconds().default(3600),
  /** Pending pairing requests per channel type; a new sender beyond it gets `rate_limited`. */
  maxPending: positiveInt().default(100),
  /** Wrong codes tried against one request before it refuses codes (the operator can still approve it). */
  maxFailedAttempts: positiveInt().default(5),
  /** Public base URL of the gateway, for owner approval links; without it no link is offered. */
  publicUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** HMAC key of pairing codes and approval links; default: generated once in `<dataDir>/pairing-secret`. */
  secret: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Seconds a device pairing request waits for the operator. */
  deviceRequestTtl: positiveSeconds().default(300),
  /** Devices that may wait for approval at once; beyond it a device gets `rate_limited`. */
  maxWaitingDevices: positiveInt().default(100),
})

/** Who is online: statuses, join / leave / update events, offline detection. */
export const PresenceConfigSchema = z.object({
  enabled: booleanOption().default(true),
  /** Seconds between presence refreshes (each node republishes its clients' last-seen times, and sweeps). */
  heartbeatInterval: positiveSeconds().default(15),
  /** Seconds without a frame from a client after which it is offline (a `leave` is sent). */
  offlineTimeout: positiveSeconds().default(45),
  /** Send `presence` join / leave / update frames to the subscribers of a client's channels. */
  broadcastChanges: booleanOption().default(true),
})

/** HTTP long-polling, the fallback transport (`/poll`). */
export const PollingConfigSchema = z.object({
  enabled: booleanOption().default(true),
  /** Seconds a `recv` hangs when nothing is queued. */
  longPollTimeout: positiveSeconds().default(30),
  /** Most frames one `recv` returns. */
  maxBatchSize: positiveInt().default(100),
})

/** The HTTP server: request body size and the time a client gets to send a request (against slowloris). */
export const HttpConfigSchema = z.object({
  /** Largest request body in bytes, on every route but `/poll/*` (which takes 4 x `maxPayload`); 413 beyond. */
  maxBodySize: positiveInt().default(MiB),
  /** Seconds a client has to send the request line and headers; beyond, 408 and the socket is closed. */
  headersTimeout: positiveSeconds().default(10),
  /** Seconds a client has to send the whole request, body included; at least `headersTimeout`. */
  requestTimeout: positiveSeconds().default(30),
  /** Seconds an idle keep-alive connection is kept open. */
  keepAliveTimeout: positiveSeconds().default(5),
})

/** Agents: registration, request / response, streams and introductions (`agentTimeout` is top level). */
export const AgentsConfigSchema = z.object({
  /** Seconds a `request` waits for the agent's answer when it names no `timeoutMs`. */
  requestTimeout: positiveSeconds().default(30),
  /** Largest `timeoutMs` a request may ask for, in seconds; longer ones are cut to it. */
  maxRequestTimeout: positiveSeconds().default(600),
  /** Seconds an `introduce` waits for the target's ACCEPT or REJECT before failing with `timeout`. */
  introductionTimeout: positiveSeconds().default(30),
  /** Requests and streams one connection may have open at once (as caller); beyond it `rate_limited`. */
  maxInFlightPerConnection: positiveInt().default(1_000),
  /**
   * Most stream chunks a receiver may have granted (credit) and the gateway may hold per stream direction:
   * the gateway's memory per stream is bounded by `streamWindow` x `maxPayload`.
   */
  streamWindow: positiveInt().default(64),
  /** Open streams per connection (either side). */
  maxStreamsPerConnection: positiveInt().default(100),
})

/** Who may message, request, stream, subscribe or publish to whom (rules live in the policy store). */
export const PoliciesConfigSchema = z.object({
  /** The effect when no rule matches, until an operator sets one (the store keeps it from then on). */
  default: z.enum(['allow', 'deny']).default('allow'),
  /** Seconds between checks of the store's policy version (a backstop: changes are also pushed on the bus). */
  reloadInterval: positiveSeconds().default(5),
})

/** Shared state: versioned key-value namespaces. */
export const StateConfigSchema = z.object({
  /** Versions kept per key, the current one included. */
  maxHistoryPerKey: positiveInt().default(100),
  /** Largest value, in bytes of its JSON text. */
  maxValueBytes: positiveInt().default(65_536),
  /** `state_watch` subscriptions per connection. */
  maxWatchesPerConnection: positiveInt().default(100),
})

/** The A2A face of the agents. */
export const A2aConfigSchema = z.object({
  /** Seconds a finished (completed, failed, canceled, rejected) A2A task is kept after its last change. */
  taskRetention: positiveSeconds().default(604_800),
  /** Push webhooks may be `http:` URLs (default: https only). */
  pushAllowInsecureUrls: booleanOption().default(false),
  /**
   * Push webhooks may be (or resolve to) loopback, private, link-local or other non-public addresses
   * (default: refused, against server-side request forgery).
   */
  pushAllowPrivateAddresses: booleanOption().default(false),
  /** Seconds one push notification POST may take before it counts as a failed attempt. */
  pushTimeout: positiveSeconds().default(10),
  /**
   * Token endpoint of the JWT issuer (`jwt.issuer`) for the OAuth2 client credentials grant, declared on A2A
   * cards; without it cards declare the issuer's OpenID Connect discovery only.
   */
  oauthTokenUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** Seconds between two looks for tasks left unfinished by a gone node (also done at start-up). */
  orphanSweepInterval: positiveSeconds().default(30),
  /** Seconds between fetches of each external A2A agent's card (a down instance is retried as often). */
  externalRefreshInterval: positiveSeconds().default(60),
  /** Seconds one fetch of an external A2A agent's card may take. */
  externalFetchTimeout: positiveSeconds().default(10),
})

/** A 32-byte key given as 64 hex digits or as base64 / base64url. */
const SECRET_KEY_PATTERN = /^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/

/** The upstreams an operator registered (external A2A agents, MCP servers). */
export const UpstreamsConfigSchema = z.object({
  /**
   * AES-256-GCM key of the upstreams' credentials at rest: 32 bytes, hex or base64. Default: derived from the
   * pairing secret (`pairing.secret`, or generated once in `<dataDir>/pairing-secret`, mode 0600).
   */
  secretKey: z.string().regex(SECRET_KEY_PATTERN, 'must be 32 bytes as 64 hex digits or base64').optional(),
  /** Seconds between checks of the store's upstream version (a backstop: changes are pushed on the bus). */
  reloadInterval: positiveSeconds().default(10),
})

/** The MCP face (`/mcp`, docs/mcp.md). */
export const McpConfigSchema = z.object({
  /** Serve `/mcp` and its protected resource metadata. */
  enabled: booleanOption().default(true),
  /** Seconds between the checks of the tool list behind `notifications/tools/list_changed` (GET streams). */
  listChangedInterval: positiveSeconds().default(1),
})

/** Upstream MCP servers registered by an operator (`/api/admin/mcp/servers`); see docs/mcp.md. */
export const McpUpstreamsConfigSchema = z.object({
  /** Seconds between two listings of a server's tools. */
  refreshInterval: positiveSeconds().default(60),
  /** Seconds before the first retry of a server that is down; doubled per failure up to `retryMax`. */
  retryInitial: positiveSeconds().default(1),
  retryMax: positiveSeconds().default(60),
  /** Seconds a connection or a tool listing may take before the server counts as down. */
  timeout: positiveSeconds().default(10),
})

/**
 * Redis, for several nodes: the bus (cross-node fan-out, presence, node registry, relays) and the `redis`
 * delivery backend. Off unless `url` or `host` is set. `url` wins over host / port / db / password.
 */
export const RedisConfigSchema = z.object({
  url: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  host: z.string().min(1).optional(),
  port: numberOption('a port number').pipe(z.number().int().min(1).max(65535)).default(6379),
  db: nonNegativeInt().default(0),
  password: z.string().min(1).optional(),
  /** Prefix of every key and pub/sub channel, so several deployments can share one Redis. */
  prefix: z.string().min(1).max(100).default('parley:'),
  /** Connections in the command pool (pub/sub uses one more). */
  maxConnections: positiveInt().default(20),
})

/** How the gateway treats its stores (database, Redis) when they are slow or down. */
export const StoresConfigSchema = z.object({
  /**
   * Seconds a store call may take before the request that needed it is answered with the retryable
   * `unavailable`; the database connect timeout and Redis command timeout follow it.
   */
  timeout: positiveSeconds().default(10),
})

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
