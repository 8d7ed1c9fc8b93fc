/**
 * Contracts of the identity stores: API tokens, chat-user pairing, device pairing requests, session
 * bindings and registered agent keys. Structural interfaces: a plain object with these methods works, no
 * base class. Each has a memory and a Postgres implementation passing one behaviour suite.
 *
 * Times are epoch milliseconds; methods that depend on the clock take `now` so tests control it.
 * Secrets (tokens, pairing codes) are never stored in clear: only a SHA-256 (tokens) or HMAC (codes) of them.
 */

import type { Role } from '@parley/protocol'

export type { Role }

// ---------------------------------------------------------------- tokens

export interface TokenRecord {
  /** Public id (`tok_…`), also embedded in the secret so it can be looked up without scanning. */
  id: string
  name: string
  role: Role
  /** Such as `publish:alerts.*`, `subscribe:*`, `send:*`. */
  scopes: string[]
  /** What the token stands for when it is not a person: a device or agent id; null otherwise. */
  subject: string | null
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
  lastUsedAt: number | null
}

export interface CreateTokenInput {
  name: string
  role: Role
  scopes: string[]
  expiresAt?: number | null
  subject?: string | null
}

export interface CreatedToken {
  /** The secret, `pk_<id>_<random>`: shown once, never stored. */
  token: string
  record: TokenRecord
}

export interface TokenStore {
  create(input: CreateTokenInput, now: number): Promise<CreatedToken>
  /**
   * The token's record when the secret is valid (known, not revoked, not expired at `now`), else undefined.
   * Compares hashes in constant time; records `lastUsedAt` (best effort, may be batched).
   */
  verify(secret: string, now: number): Promise<TokenRecord | undefined>
  get(id: string): Promise<TokenRecord | undefined>
  /** Newest first, revoked ones included. */
  list(): Promise<TokenRecord[]>
  /** Resolves true when it was live and is now revoked. */
  revoke(id: string, now: number): Promise<boolean>
}

// ---------------------------------------------------------------- dashboard sessions

export interface DashboardSessionRecord {
  /** Public id (`ses_…`): what the Access page shows and revokes by; not the secret. */
  id: string
  /** Who logged in: `admin` (the admin token), an API token id, or a JWT's principal. */
  principal: string
  /** The API token the session was opened with, when it was one. */
  credentialId: string | null
  createdAt: number
  /** Updated by `verify`, at most once per `LAST_SEEN_RESOLUTION_MS`. */
  lastSeenAt: number
  expiresAt: number
  revokedAt: number | null
  userAgent: string | null
  /** The browser's address as the gateway resolved it at login. */
  address: string | null
}

export interface CreateDashboardSessionInput {
  principal: string
  credentialId?: string | null
  expiresAt: number
  userAgent?: string | null
  address?: string | null
}

export interface CreatedDashboardSession {
  /** The secret, `ps_<random>`: goes into the browser's cookie, never stored. */
  secret: string
  record: DashboardSessionRecord
}

export interface DashboardSessionStore {
  create(input: CreateDashboardSessionInput, now: number): Promise<CreatedDashboardSession>
  /** The live session (not revoked, not expired at `now`) a secret opens, else undefined; touches `lastSeenAt`. */
  verify(secret: string, now: number): Promise<DashboardSessionRecord | undefined>
  /** Live sessions at `now`, newest first. */
  listLive(now: number): Promise<DashboardSessionRecord[]>
  /** Resolves true when it was live and is now revoked. */
  revoke(id: string, now: number): Promise<boolean>
  /** Revokes every live session ("log out everywhere"); resolves how many. */
  revokeAll(now: number): Promise<number>
  /** Revokes the live sessions opened with an API token (the token was revoked); resolves how many. */
  revokeByCredential(credentialId: string, now: number): Promise<number>
  /** Deletes sessions that expired or were revoked before `before`; resolves how many. */
  prune(before: number): Promise<number>
}

// ---------------------------------------------------------------- chat-user pairing (connectors)

export interface PendingPairing {
  /** Request id (`pair_…`), for the operator's approve / deny. */
  id: string
  channelType: string
  /** The sender who asked (the chat user id on that channel type). */
  channelId: string
  displayName: string | null
  createdAt: number
  expiresAt: number
  /** Wrong codes tried against this request. */
  failedAttempts: number
  /** True once `failedAttempts` reached the limit: codes are refused, the operator can still approve by id. */
  locked: boolean
}

export interface PairedChannel {
  channelType: string
  channelId: string
  displayName: string | null
  pairedAt: number
  /** Who approved it (an admin token name, `cli`, `link`...). */
  approvedBy: string | null
}

export interface GenerateCodeOptions {
  displayName?: string | null
  now?: number
}

export type PairingResolution =
  | { ok: true; paired: PairedChannel; requestId: string }
  | { ok: false; reason: 'not_found' | 'wrong_code' | 'locked' | 'expired' }

export interface PairingStore {
  /**
   * The live code of the sender `channelId` on `channelType`, creating a request if it has none: asking
   * again returns the same code until it expires. Codes are 8 characters from an unambiguous alphabet (no
   * 0/O, 1/I/L), derived from the request and a server secret, and stored only as an HMAC. Throws
   * `PairingLimitError` when `channelType` already has the maximum of pending requests.
   */
  generateCode(channelType?: string, channelId?: string, options?: GenerateCodeOptions): Promise<string>
  /**
   * Approves the request whose code this is and pairs the sender who asked (never the approver).
   * With `userId`, the request must be that sender's and a wrong code counts against it. Resolves true on
   * success. Named as in the reference; `approveCode` gives the reason.
   */
  approve(channelType: string, code: string, userId?: string, userName?: string): Promise<boolean>
  approveCode(
    channelType: string,
    code: string,
    options?: { channelId?: string; approvedBy?: string; now?: number },
  ): Promise<PairingResolution>
  /** The operator's path: approves by request id, also when it is locked by wrong codes. */
  approveRequest(requestId: string, approvedBy: string, now?: number): Promise<PairingResolution>
  /** Denies (deletes) a pending request; resolves the request when it existed. */
  deny(requestId: string, now?: number): Promise<PendingPairing | undefined>
  isPaired(channelId: string, channelType: string): Promise<boolean>
  listPaired(): Promise<PairedChannel[]>
  revoke(channelId: string, channelType: string): Promise<boolean>
  /** Live (unexpired) requests, oldest first. */
  listPending(channelType?: string, now?: number): Promise<PendingPairing[]>
}

export interface PairingStoreOptions {
  /** HMAC key for codes (at least 32 bytes). */
  secret: Uint8Array
  /** Default 3,600,000 (1 hour). */
  codeTtlMs?: number
  /** Pending requests per channel type. Default 100. */
  maxPendingPerChannelType?: number
  /** Wrong codes per request before it refuses codes. Default 5. */
  maxFailedAttempts?: number
}

// ---------------------------------------------------------------- device pairing

export type DeviceRequestStatus = 'pending' | 'approved' | 'denied' | 'expired'

export interface DeviceRequest {
  id: string
  deviceName: string
  platform: string | null
  remoteAddress: string | null
  createdAt: number
  expiresAt: number
  status: DeviceRequestStatus
  /** Set on approval: the token issued to the device (its record id, never the secret). */
  tokenId: string | null
  /** The agent identity (did:key) the device asked to register, registered on approval; null without one. */
  identity: string | null
  /** The identity's raw Ed25519 public key (base64url); null without an identity. */
  publicKey: string | null
}

export interface DevicePairingStore {
  /** Default TTL 5 minutes. */
  request(
    input: {
      deviceName: string
      platform?: string | null
      remoteAddress?: string | null
      /** Stored as given: the caller checks that the did is the key's before asking. */
      identity?: string | null
      publicKey?: string | null
      ttlMs?: number
    },
    now: number,
  ): Promise<DeviceRequest>
  get(id: string, now: number): Promise<DeviceRequest | undefined>
  listPending(now: number): Promise<DeviceRequest[]>
  /** Pending → approved with the issued token id; undefined when not pending (or expired). */
  approve(id: string, tokenId: string, now: number): Promise<DeviceRequest | undefined>
  deny(id: string, now: number): Promise<DeviceRequest | undefined>
}

// ---------------------------------------------------------------- sessions

export interface SessionPrincipal {
  /** Who: a token id, a JWT subject, an agent's did, `shared` for the shared token, `anonymous`. */
  principal: string
  role: Role
  metadata?: Record<string, unknown>
}

export interface SessionBindingStore {
  bind(sessionId: string, principal: SessionPrincipal): Promise<void>
  lookup(sessionId: string): Promise<SessionPrincipal | undefined>
}

// ---------------------------------------------------------------- agent keys

export interface AgentKey {
  /** `did:key:z…` derived from the public key. */
  id: string
  /** Raw 32-byte Ed25519 public key, base64url. */
  publicKey: string
  name: string
  role: Role
  scopes: string[]
  createdAt: number
  revokedAt: number | null
}

export interface AgentKeyStore {
  /** Idempotent for the same key; refuses a malformed key or a did that does not match it. */
  register(
    input: { id: string; publicKey: string; name: string; role?: Role; scopes?: string[] },
    now: number,
  ): Promise<AgentKey>
  /** Live keys only (revoked ones resolve undefined). */
  get(id: string): Promise<AgentKey | undefined>
  list(): Promise<AgentKey[]>
  revoke(id: string, now: number): Promise<boolean>
}
