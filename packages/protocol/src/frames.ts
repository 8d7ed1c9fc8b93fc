import { z } from 'zod'
import { ERROR_CODE_NAMES } from './errors.js'

/** Client-chosen request id; the reply or error carries it back. */
export const RequestId = z.string().min(1).max(64)

/** Channel names: 1-200 characters of letters, digits and `_ - . : / @`. A leading `$` is reserved. */
export const ChannelName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_\-.:/@][A-Za-z0-9_\-.:/@$]*$/, 'channel names use letters, digits and _ - . : / @')

/** A stable client identity chosen by the client (or assigned by the server when absent). */
export const ClientId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_\-.:@]+$/, 'client ids use letters, digits and _ - . : @')

/** Any JSON value except `undefined`: frames arrive as parsed JSON, so only presence is checked. */
export const JsonData = z.unknown().refine((value) => value !== undefined, { message: 'data is required' })

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
  auth: z.object({ token: z.string().min(1).max(4096) }).optional(),
})

export const SubscribeFrame = z.object({ type: z.literal('subscribe'), id: RequestId, channel: ChannelName })
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
})
export const BroadcastFrame = z.object({ type: z.literal('broadcast'), id: RequestId, data: JsonData })
export const PingFrame = z.object({
  type: z.literal('ping'),
  id: RequestId.optional(),
  ts: z.number().optional(),
})
export const PongFrame = z.object({ type: z.literal('pong'), ts: z.number().optional() })

export const ClientFrame = z.discriminatedUnion('type', [
  HelloFrame,
  SubscribeFrame,
  UnsubscribeFrame,
  PublishFrame,
  BroadcastFrame,
  PingFrame,
  PongFrame,
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
})

export const ChannelMessageFrame = z.object({
  type: z.literal('channel_message'),
  channel: ChannelName,
  data: JsonData,
  id: z.string(),
  source: z.string(),
  timestamp: z.number(),
})

export const BroadcastMessageFrame = z.object({
  type: z.literal('broadcast_message'),
  data: JsonData,
  id: z.string(),
  source: z.string(),
  timestamp: z.number(),
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
  BroadcastMessageFrame,
  ServerPingFrame,
  ServerPongFrame,
  ShutdownFrame,
])
export type ServerFrame = z.infer<typeof ServerFrame>
export type ServerFrameType = ServerFrame['type']

// ---------------------------------------------------------------- request results (`reply.result`)

export const SubscribeResult = z.object({ channel: ChannelName })
export const UnsubscribeResult = z.object({ channel: ChannelName })
export const PublishResult = z.object({
  id: z.string(),
  channel: ChannelName,
  delivered: z.number().int().nonnegative(),
  timestamp: z.number(),
})
export const BroadcastResult = z.object({
  id: z.string(),
  delivered: z.number().int().nonnegative(),
  timestamp: z.number(),
})

/** The result schema of each request type that is answered with `reply`. */
export const RESULT_SCHEMAS = {
  subscribe: SubscribeResult,
  unsubscribe: UnsubscribeResult,
  publish: PublishResult,
  broadcast: BroadcastResult,
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
