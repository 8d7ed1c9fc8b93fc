import { z } from 'zod'

// ---------------------------------------------------------------- tokens

export const ADMIN_ROLES = ['admin', 'agent', 'client', 'connector'] as const

export const TokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ADMIN_ROLES),
  scopes: z.array(z.string()),
  subject: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
})
export type TokenInfo = z.infer<typeof TokenInfo>

export const TokenList = z.object({ tokens: z.array(TokenInfo) })
export type TokenList = z.infer<typeof TokenList>

/** The longest token lifetime `POST /api/admin/tokens` takes: 100 years, in seconds. */
export const MAX_TOKEN_LIFETIME_S = 100 * 365 * 24 * 3600

/** Body of `POST /api/admin/tokens`. */
export const CreateTokenRequest = z.object({
  name: z.string().min(1).max(100),
  role: z.enum(ADMIN_ROLES),
  scopes: z.array(z.string().min(3).max(200)).max(100).default([]),
  /** Lifetime in seconds, at most 100 years (the expiry must stay a date a database can store); absent = no expiry. */
  expiresIn: z.number().int().positive().max(MAX_TOKEN_LIFETIME_S).optional(),
})
export type CreateTokenRequest = z.infer<typeof CreateTokenRequest>

/** Answer of `POST /api/admin/tokens`: the secret is shown this once and never again. */
export const CreatedToken = z.object({ token: z.string(), info: TokenInfo })
export type CreatedToken = z.infer<typeof CreatedToken>

// ---------------------------------------------------------------- pairing, devices, agent keys

export const PendingPairingInfo = z.object({
  id: z.string(),
  channelType: z.string(),
  senderId: z.string(),
  displayName: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  ageS: z.number().nonnegative(),
  failedAttempts: z.number().int().nonnegative(),
  locked: z.boolean(),
})
export type PendingPairingInfo = z.infer<typeof PendingPairingInfo>

export const PairedSenderInfo = z.object({
  channelType: z.string(),
  senderId: z.string(),
  displayName: z.string().nullable(),
  pairedAt: z.string(),
  approvedBy: z.string().nullable(),
})
export type PairedSenderInfo = z.infer<typeof PairedSenderInfo>

/** `GET /api/admin/pairing`: pending requests (oldest first) and paired senders. */
export const PairingOverview = z.object({
  pending: z.array(PendingPairingInfo),
  paired: z.array(PairedSenderInfo),
})
export type PairingOverview = z.infer<typeof PairingOverview>

/** Body of `POST /api/admin/pairing/approve`: the code path (wrong codes count against the sender's request). */
export const ApproveCodeRequest = z.object({
  channelType: z.string().min(1).max(64),
  code: z.string().min(1).max(32),
  senderId: z.string().min(1).max(256).optional(),
})
export type ApproveCodeRequest = z.infer<typeof ApproveCodeRequest>

export const PairingDecision = z.object({
  requestId: z.string().nullable(),
  channelType: z.string(),
  senderId: z.string(),
  status: z.enum(['approved', 'denied', 'revoked']),
})
export type PairingDecision = z.infer<typeof PairingDecision>

export const DeviceRequestInfo = z.object({
  id: z.string(),
  deviceName: z.string(),
  platform: z.string().nullable(),
  remoteAddress: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  status: z.enum(['pending', 'approved', 'denied', 'expired']),
  tokenId: z.string().nullable(),
  /** The agent identity (did:key) the device asked to register, when it sent one; approval registers it. */
  identity: z.string().nullable().default(null),
})
export type DeviceRequestInfo = z.infer<typeof DeviceRequestInfo>

export const DeviceRequestList = z.object({ devices: z.array(DeviceRequestInfo) })
export type DeviceRequestList = z.infer<typeof DeviceRequestList>

/** Body of `POST /api/admin/devices/:id/approve`; the device gets a token with this role and these scopes. */
export const ApproveDeviceRequest = z.object({
  role: z.enum(ADMIN_ROLES).default('client'),
  scopes: z.array(z.string().min(3).max(200)).max(100).default(['*:*']),
})
export type ApproveDeviceRequest = z.infer<typeof ApproveDeviceRequest>

export const AgentKeyInfo = z.object({
  id: z.string(),
  publicKey: z.string(),
  name: z.string(),
  role: z.enum(ADMIN_ROLES),
  scopes: z.array(z.string()),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
})
export type AgentKeyInfo = z.infer<typeof AgentKeyInfo>

export const AgentKeyList = z.object({ agentKeys: z.array(AgentKeyInfo) })
export type AgentKeyList = z.infer<typeof AgentKeyList>

/** Body of `POST /api/admin/agent-keys`. */
export const RegisterAgentKeyRequest = z.object({
  id: z.string().min(1).max(512),
  publicKey: z.string().min(1).max(100),
  name: z.string().min(1).max(100),
  role: z.enum(ADMIN_ROLES).default('agent'),
  scopes: z.array(z.string().min(3).max(200)).max(100).default(['*:*']),
})
export type RegisterAgentKeyRequest = z.infer<typeof RegisterAgentKeyRequest>

// ---------------------------------------------------------------- dashboard sessions

/** `GET /api/admin/whoami`: the role and principal of the credential presented. */
export const WhoAmI = z.object({ role: z.string(), principal: z.string().optional() })
export type WhoAmI = z.infer<typeof WhoAmI>

/** One live dashboard login (`GET /api/admin/sessions`); `id` is public, the secret is never shown again. */
export const DashboardSessionInfo = z.object({
  id: z.string(),
  principal: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  userAgent: z.string().nullable(),
  address: z.string().nullable(),
  /** True for the session that made this request. */
  current: z.boolean(),
})
export type DashboardSessionInfo = z.infer<typeof DashboardSessionInfo>

export const DashboardSessionList = z.object({ sessions: z.array(DashboardSessionInfo) })
export type DashboardSessionList = z.infer<typeof DashboardSessionList>

/** Body of `POST /api/admin/sessions` (log in with an admin credential as the Bearer token). */
export const CreateDashboardSessionRequest = z.object({ userAgent: z.string().max(512).optional() })
export type CreateDashboardSessionRequest = z.infer<typeof CreateDashboardSessionRequest>

/** Answer of `POST /api/admin/sessions`: `session` is the secret for the cookie, shown this once. */
export const CreatedDashboardSession = z.object({ session: z.string(), info: DashboardSessionInfo })
export type CreatedDashboardSession = z.infer<typeof CreatedDashboardSession>

/** Answer of `DELETE /api/admin/sessions` ("log out everywhere") and `DELETE /api/admin/sessions/current`. */
export const RevokedDashboardSessions = z.object({ revoked: z.number().int().nonnegative() })
export type RevokedDashboardSessions = z.infer<typeof RevokedDashboardSessions>
