import { z } from 'zod'
import { AGENT_CLIENT_FRAMES, AGENT_RESULT_SCHEMAS, AGENT_SERVER_FRAMES } from './agent-frames.js'
import { ERROR_CODE_NAMES } from './errors.js'
import {
  PresenceFrame,
  PresenceGetFrame,
  PresenceListResult,
  PresenceSetFrame,
  PresenceSetResult,
} from './presence-frames.js'
import {
  ChannelName,
  ClientId,
  DeliveryId,
  IdempotencyKey,
  JsonData,
  RequestId,
  Role,
  StreamPosition,
  storedText,
} from './primitives.js'
import { TraceContextFields } from './trace-context.js'

export {
  ChannelName,
  ClientId,
  DeliveryId,
  IdempotencyKey,
  JsonData,
  RequestId,
  ROLES,
  Role,
  Scope,
  StreamPosition,
} from './primitives.js'

const ProtocolRange = z
  .object({ min: z.number().int().min(1), max: z.number().int().min(1) })
  .refine((range) => range.min <= range.max, { message: 'protocol.min must not exceed protocol.max' })

// ---------------------------------------------------------------- client -> server

export const HelloFrame = z.object({
  type: z.literal('hello'),
  id: RequestId.optional(),
  protocol: ProtocolRange,
  client: z.object({ name: z.string().max(100), version: z.string().max(50) }).optional(),
  clientId: ClientId.optional(),
  auth: z
    .object({
      token: z.string().min(1).max(4096).optional(),
      /** An agent identity (`did:key:…`): the gateway answers with `challenge`, the client with `authenticate`. */
      identity: storedText(1, 512).optional(),
    })
    .optional(),
  /**
   * Resume an earlier session (its `welcome.sessionId`) within `reconnectTimeout`: the gateway restores its
   * subscriptions and replays what was missed (`welcome.resumed`, then `session_resumed`). A session bound to
   * another principal is refused with `forbidden` and the connection stays in the handshake.
   */
  resume: z.object({ sessionId: storedText(1, 64) }).optional(),
  /** A device without credentials asks to be paired; the operator approves or denies it. */
  pairing: z
    .object({
      device: z.object({ name: storedText(1, 100), platform: storedText(0, 100).optional() }),
      /** With `auth.identity`: the identity's raw Ed25519 public key (base64url), registered on approval. */
      publicKey: storedText(1, 100).optional(),
    })
    .optional(),
})

/** Answers `challenge`: the signature of `parley-auth-v1\n<nonce>\n<timestamp>\n<identity>` (base64url). */
export const AuthenticateFrame = z.object({
  type: z.literal('authenticate'),
  id: RequestId.optional(),
  identity: storedText(1, 512),
  nonce: storedText(1, 512),
  timestamp: z.number().int().nonnegative(),
  signature: z.string().min(1).max(200),
})

/** A connector asks whether a chat sender may talk to its agents (policy per channel type). */
export const PairingCheckFrame = z.object({
  type: z.literal('pairing_check'),
  id: RequestId,
  channelType: storedText(1, 64),
  senderId: storedText(1, 256),
  displayName: storedText(0, 200).optional(),
})

export const SubscribeFrame = z.object({
  type: z.literal('subscribe'),
  id: RequestId,
  channel: ChannelName,
  /** Resume after this position: missed publications are replayed before the reply, or `recovered: false`. */
  since: StreamPosition.optional(),
  /** Keep a server-side cursor for this client id: publications are queued while it is offline. */
  durable: z.boolean().optional(),
})
export const UnsubscribeFrame = z.object({
  type: z.literal('unsubscribe'),
  id: RequestId,
  channel: ChannelName,
})
export const PublishFrame = z.object({
  type: z.literal('publish'),
  id: RequestId,
  channel: ChannelName,
  data: JsonData,
  idempotencyKey: IdempotencyKey.optional(),
  ...TraceContextFields,
})
export const BroadcastFrame = z.object({ type: z.literal('broadcast'), id: RequestId, data: JsonData })
export const PingFrame = z.object({
  type: z.literal('ping'),
  id: RequestId.optional(),
  ts: z.number().optional(),
})
export const PongFrame = z.object({ type: z.literal('pong'), ts: z.number().optional() })

/** A direct message to one client id, delivered at least once with acknowledgement. */
export const SendFrame = z.object({
  type: z.literal('send'),
  id: RequestId,
  to: ClientId,
  data: JsonData,
  idempotencyKey: IdempotencyKey.optional(),
  /** Ask for `receipt` frames as the delivery progresses (delivered, acked, dead, expired). */
  receipt: z.boolean().optional(),
  ...TraceContextFields,
})

/** Settles deliveries as processed. With `id` the gateway replies; without it the ack is fire-and-forget. */
export const AckFrame = z.object({
  type: z.literal('ack'),
  id: RequestId.optional(),
  deliveryIds: z.array(DeliveryId).min(1).max(1000),
})

/** Refuses a delivery: it is retried after `delayMs` (or the backoff) until `maxRetries`, then dead-lettered. */
export const NackFrame = z.object({
  type: z.literal('nack'),
  id: RequestId.optional(),
  deliveryId: DeliveryId,
  delayMs: z
    .number()
    .int()
    .nonnegative()
    .max(24 * 3600 * 1000)
    .optional(),
  reason: z.string().max(500).optional(),
})

export const ClientFrame = z.discriminatedUnion('type', [
  HelloFrame,
  SubscribeFrame,
  UnsubscribeFrame,
  PublishFrame,
  BroadcastFrame,
  PingFrame,
  PongFrame,
  SendFrame,
  AckFrame,
  NackFrame,
  AuthenticateFrame,
  PairingCheckFrame,
  PresenceSetFrame,
  PresenceGetFrame,
  ...AGENT_CLIENT_FRAMES,
])
export type ClientFrame = z.infer<typeof ClientFrame>
export const CLIENT_FRAME_TYPES = ClientFrame.options.map((option) => option.shape.type.value)
export type ClientFrameType = ClientFrame['type']

// ---------------------------------------------------------------- server -> client

export const WelcomeFrame = z.object({
  type: z.literal('welcome'),
  id: RequestId.optional(),
  protocol: z.number().int(),
  sessionId: z.string(),
  connectionId: z.string(),
  clientId: z.string(),
  heartbeatIntervalMs: z.number().int().positive(),
  limits: z.object({
    maxPayload: z.number().int().positive(),
    maxSubscriptions: z.number().int().positive(),
  }),
  features: z.array(z.string()),
  server: z.object({ name: z.string(), version: z.string() }),
  /** Who the gateway took the client to be, and what it may do. */
  principal: z.object({ id: z.string(), role: Role, scopes: z.array(z.string()) }).optional(),
  /**
   * Present when `hello.resume` was asked: true when the session was resumed (its subscriptions follow in
   * `session_resumed`), false when a fresh session was opened instead (unknown, expired or overflowed).
   */
  resumed: z.boolean().optional(),
  /** The transport this connection uses. */
  transport: z.enum(['websocket', 'polling']).optional(),
  /** The gateway node serving this connection. */
  node: z.string().optional(),
})

export const ReplyFrame = z.object({
  type: z.literal('reply'),
  id: RequestId,
  result: z.record(z.string(), z.unknown()),
})

export const ErrorFrame = z.object({
  type: z.literal('error'),
  id: RequestId.optional(),
  code: z.enum(ERROR_CODE_NAMES),
  message: z.string(),
  retryable: z.boolean(),
  retryAfterMs: z.number().int().nonnegative().optional(),
  /** Machine-readable context of some codes: `rule` (policy_denied), `currentVersion` (version_conflict), `code` (agent_error). */
  details: z.record(z.string(), z.unknown()).optional(),
})

export const ChannelMessageFrame = z.object({
  type: z.literal('channel_message'),
  channel: ChannelName,
  data: JsonData,
  id: z.string(),
  source: z.string(),
  timestamp: z.number(),
  /** Position in the channel's stream: strictly increasing by one per publication within an epoch. */
  offset: z.number().int().positive().optional(),
  epoch: z.string().optional(),
  /** Present on durable deliveries only: acknowledge with `ack`. */
  deliveryId: DeliveryId.optional(),
  /** 1 on the first delivery, higher on redeliveries (durable deliveries only). */
  attempt: z.number().int().positive().optional(),
  /** The publish span's trace context (live deliveries of a traced publish only; not kept in the history). */
  ...TraceContextFields,
})

/** A direct message from another client; acknowledge `deliveryId` with `ack` (or `nack`). */
export const DirectMessageFrame = z.object({
  type: z.literal('direct_message'),
  id: z.string(),
  deliveryId: DeliveryId,
  attempt: z.number().int().positive(),
  from: z.string(),
  data: JsonData,
  timestamp: z.number(),
  /** Set when the sender is a registered agent (messages sent with `agent_send`). */
  fromAgent: z.string().optional(),
  traceId: z.string().optional(),
  /** The sender's trace context (`traceparent` only: it is kept with the delivery; `tracestate` is not). */
  traceparent: z.string().optional(),
})

export const RECEIPT_STATUSES = ['delivered', 'acked', 'dead', 'expired'] as const
export const ReceiptStatus = z.enum(RECEIPT_STATUSES)

/** Progress of a direct message sent with `receipt: true`, sent to the sender's client id. */
export const ReceiptFrame = z.object({
  type: z.literal('receipt'),
  messageId: z.string(),
  deliveryId: DeliveryId,
  to: z.string(),
  status: ReceiptStatus,
  attempt: z.number().int().nonnegative(),
  timestamp: z.number(),
})

export const BroadcastMessageFrame = z.object({
  type: z.literal('broadcast_message'),
  data: JsonData,
  id: z.string(),
  source: z.string(),
  timestamp: z.number(),
})

/** Sent after a `hello` with `auth.identity`: sign it and answer with `authenticate`. */
export const ChallengeFrame = z.object({
  type: z.literal('challenge'),
  id: RequestId.optional(),
  nonce: z.string(),
  /** The gateway's clock, epoch ms; the signed timestamp must be within `maxSkewMs` of the gateway's. */
  timestamp: z.number(),
  maxSkewMs: z.number().int().positive(),
})

/** A device pairing request is waiting for the operator. */
export const PairingPendingFrame = z.object({
  type: z.literal('pairing_pending'),
  id: RequestId.optional(),
  requestId: z.string(),
  expiresAt: z.number(),
})

/** The operator approved the device: keep `token` (shown once) and use it from now on; `welcome` follows. */
export const PairingApprovedFrame = z.object({
  type: z.literal('pairing_approved'),
  requestId: z.string(),
  token: z.string(),
  deviceId: z.string(),
})

export const PAIRING_RESOLUTIONS = ['approved', 'denied', 'revoked', 'expired'] as const

/** To connectors: a chat sender's pairing was decided (by the dashboard, the CLI, the API or a link). */
export const PairingResolvedFrame = z.object({
  type: z.literal('pairing_resolved'),
  requestId: z.string().nullable(),
  channelType: z.string(),
  senderId: z.string(),
  status: z.enum(PAIRING_RESOLUTIONS),
  timestamp: z.number(),
})

/** One restored subscription of a resumed session, where it continues from. */
export const ResumedSubscription = z.object({
  channel: ChannelName,
  offset: z.number().int().nonnegative(),
  epoch: z.string(),
  /** False when the history no longer held every missed publication (resubscribe and reload). */
  recovered: z.boolean(),
  replayed: z.number().int().nonnegative(),
})

/**
 * After `welcome` with `resumed: true`: the restored subscriptions, sent once each one's missed publications
 * (and the session's buffered frames) have been replayed. Live frames follow.
 */
export const SessionResumedFrame = z.object({
  type: z.literal('session_resumed'),
  sessionId: z.string(),
  subscriptions: z.array(ResumedSubscription),
  /** Frames buffered for the session while it was away (direct messages, broadcasts), replayed before this. */
  buffered: z.number().int().nonnegative(),
})

export const ServerPingFrame = z.object({ type: z.literal('ping'), ts: z.number() })
export const ServerPongFrame = z.object({ type: z.literal('pong'), id: RequestId.optional(), ts: z.number() })

export const ShutdownFrame = z.object({
  type: z.literal('shutdown'),
  reason: z.string(),
  reconnectAfterMs: z.number().int().nonnegative(),
})

export const ServerFrame = z.discriminatedUnion('type', [
  WelcomeFrame,
  ReplyFrame,
  ErrorFrame,
  ChannelMessageFrame,
  DirectMessageFrame,
  ReceiptFrame,
  BroadcastMessageFrame,
  ChallengeFrame,
  PairingPendingFrame,
  PairingApprovedFrame,
  PairingResolvedFrame,
  SessionResumedFrame,
  PresenceFrame,
  ServerPingFrame,
  ServerPongFrame,
  ShutdownFrame,
  ...AGENT_SERVER_FRAMES,
])
export type ServerFrame = z.infer<typeof ServerFrame>
export type ServerFrameType = ServerFrame['type']

// ---------------------------------------------------------------- request results (`reply.result`)

export const SubscribeResult = z.object({
  channel: ChannelName,
  /** The stream position the subscription continues from (the last publication replayed or already seen). */
  offset: z.number().int().nonnegative().optional(),
  epoch: z.string().optional(),
  /** Present when `since` was given: true when every missed publication was replayed before this reply. */
  recovered: z.boolean().optional(),
  /** Number of publications replayed before this reply. */
  replayed: z.number().int().nonnegative().optional(),
  durable: z.boolean().optional(),
})
export const UnsubscribeResult = z.object({ channel: ChannelName })
export const PublishResult = z.object({
  id: z.string(),
  channel: ChannelName,
  delivered: z.number().int().nonnegative(),
  timestamp: z.number(),
  offset: z.number().int().positive().optional(),
  epoch: z.string().optional(),
  /** True when the idempotency key was seen within the dedupe window: this is the first publish's result. */
  duplicate: z.boolean().optional(),
})
export const SendResult = z.object({
  id: z.string(),
  to: z.string(),
  deliveryId: DeliveryId,
  timestamp: z.number(),
  duplicate: z.boolean().optional(),
})
export const AckResult = z.object({
  /** How many of the named deliveries were settled now; unknown or already settled ids count 0. */
  settled: z.number().int().nonnegative(),
})
export const BroadcastResult = z.object({
  id: z.string(),
  delivered: z.number().int().nonnegative(),
  timestamp: z.number(),
})

export const PairingCheckResult = z.object({
  /** allowed: may talk (open policy, allowlisted or paired); denied: may not; pending: give the sender `code`. */
  status: z.enum(['allowed', 'denied', 'pending']),
  policy: z.enum(['deny', 'pair', 'allowlist', 'open']),
  code: z.string().optional(),
  requestId: z.string().optional(),
  expiresAt: z.number().optional(),
  /** Signed single-use link an owner can open to approve (when the gateway knows its public URL). */
  approvalUrl: z.string().optional(),
})

/** The result schema of each request type that is answered with `reply`. */
export const RESULT_SCHEMAS = {
  subscribe: SubscribeResult,
  unsubscribe: UnsubscribeResult,
  publish: PublishResult,
  broadcast: BroadcastResult,
  send: SendResult,
  ack: AckResult,
  nack: AckResult,
  pairing_check: PairingCheckResult,
  presence_set: PresenceSetResult,
  presence_get: PresenceListResult,
  ...AGENT_RESULT_SCHEMAS,
} as const

export type HelloFrame = z.infer<typeof HelloFrame>
export type SubscribeFrame = z.infer<typeof SubscribeFrame>
export type UnsubscribeFrame = z.infer<typeof UnsubscribeFrame>
export type PublishFrame = z.infer<typeof PublishFrame>
export type BroadcastFrame = z.infer<typeof BroadcastFrame>
export type PingFrame = z.infer<typeof PingFrame>
export type PongFrame = z.infer<typeof PongFrame>
export type WelcomeFrame = z.infer<typeof WelcomeFrame>
export type ReplyFrame = z.infer<typeof ReplyFrame>
export type ErrorFrame = z.infer<typeof ErrorFrame>
export type ChannelMessageFrame = z.infer<typeof ChannelMessageFrame>
export type BroadcastMessageFrame = z.infer<typeof BroadcastMessageFrame>
export type ServerPingFrame = z.infer<typeof ServerPingFrame>
export type ServerPongFrame = z.infer<typeof ServerPongFrame>
export type ShutdownFrame = z.infer<typeof ShutdownFrame>
export type SubscribeResult = z.infer<typeof SubscribeResult>
export type UnsubscribeResult = z.infer<typeof UnsubscribeResult>
export type PublishResult = z.infer<typeof PublishResult>
export type BroadcastResult = z.infer<typeof BroadcastResult>
export type SendFrame = z.infer<typeof SendFrame>
export type AckFrame = z.infer<typeof AckFrame>
export type NackFrame = z.infer<typeof NackFrame>
export type DirectMessageFrame = z.infer<typeof DirectMessageFrame>
export type ReceiptFrame = z.infer<typeof ReceiptFrame>
export type ReceiptStatus = z.infer<typeof ReceiptStatus>
export type AuthenticateFrame = z.infer<typeof AuthenticateFrame>
export type PairingCheckFrame = z.infer<typeof PairingCheckFrame>
export type ChallengeFrame = z.infer<typeof ChallengeFrame>
export type PairingPendingFrame = z.infer<typeof PairingPendingFrame>
export type PairingApprovedFrame = z.infer<typeof PairingApprovedFrame>
export type PairingResolvedFrame = z.infer<typeof PairingResolvedFrame>
export type PairingCheckResult = z.infer<typeof PairingCheckResult>
export type SendResult = z.infer<typeof SendResult>
export type AckResult = z.infer<typeof AckResult>
export type SessionResumedFrame = z.infer<typeof SessionResumedFrame>
export type ResumedSubscription = z.infer<typeof ResumedSubscription>
