import { z } from 'zod'
import {
  booleanOption,
  MiB,
  nonNegativeInt,
  nonNegativeSeconds,
  numberOption,
  positiveInt,
  positiveSeconds,
} from './option-schemas.js'

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
  /**
   * `postgres` (the default) keeps deliveries and history in the gateway's database: `databaseUrl`, else the
   * embedded one, so a restart loses neither. `redis` needs the `redis` section (or REDIS_URL); `memory`
   * forgets both on restart.
   */
  storeBackend: z.enum(STORE_BACKENDS, { error: 'must be memory, postgres or redis' }).default('postgres'),
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
  /**
   * Seconds a channel's presence frames are held after one was sent on it, then sent together (one write per
   * subscriber, not one per change, while many join at once); 0 sends each at once.
   */
  broadcastInterval: nonNegativeSeconds().default(1),
  /**
   * Seconds a client whose connection was lost without a close (a network cut, a crashed process) stays on
   * its channels: back on them within it, nobody sees it leave and join again; 0 leaves at once.
   */
  leaveDelay: nonNegativeSeconds().default(15),
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
  /**
   * Connections the kernel completes and queues for the gateway to accept (the listen backlog; Linux caps it
   * at `net.core.somaxconn`). Node's 511 overflowed in a reconnect storm: dropped SYNs are retried after 1, 3
   * and 7 s, past a client's WebSocket open timeout.
   */
  backlog: positiveInt().default(4096),
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
  /** Longest chain of agent requests (each made while answering the one before): past it, `loop_detected`. */
  maxHops: positiveInt().default(16),
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
  /**
   * Prepare the database statements that carry parameters (one round trip each instead of two, pipelined);
   * off behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements: booleanOption().default(true),
})

/**
 * The audit trail. On by default; off only by the operator's explicit choice (a benchmark measuring what the
 * audit costs, a throw-away test gateway): nothing is recorded then and the audit API answers empty pages.
 */
export const AuditConfigSchema = z.object({
  enabled: booleanOption().default(true),
  /** Rows appended between two signed checkpoints of the audit chain. */
  checkpointRows: positiveInt().default(10_000),
  /** Seconds between two checkpoints (one is signed only when rows were appended). */
  checkpointInterval: positiveSeconds().default(60),
  /** Folder the checkpoint files are written to; default `<dataDir>/audit-checkpoints`. */
  checkpointDir: z.string().min(1).optional(),
  /** Ed25519 private key (PEM, PKCS#8) that signs checkpoints; default `<dataDir>/audit-signing-key.pem`, made at first start. */
  signingKeyFile: z.string().min(1).optional(),
  /** Seconds audit rows are kept; 0 keeps them forever. Rows are deleted only up to a signed checkpoint. */
  retention: nonNegativeSeconds().default(0),
})

/**
 * OpenTelemetry spans (docs/operations.md, "Tracing"). Without `otlpEndpoint` no tracer provider or exporter is
 * created and the span code is skipped.
 */
export const TracingConfigSchema = z.object({
  /** OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<otlpEndpoint>/v1/traces`. */
  otlpEndpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** The `service.name` resource attribute of the gateway's spans (`OTEL_SERVICE_NAME`). */
  serviceName: z.string().min(1).max(200).default('parley-gateway'),
})
