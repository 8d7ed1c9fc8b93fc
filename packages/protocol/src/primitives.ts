import { z } from 'zod'

/** Building blocks shared by every frame family. */

/**
 * Text without NUL characters: for strings the gateway looks up in (or writes to) its stores, as Postgres text
 * refuses NUL. Payloads (`data`) are JSON and are not held to it.
 */
export function storedText(min: number, max: number) {
  return (
    z
      .string()
      .min(min)
      .max(max)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing NUL is the point; a pattern reaches the JSON Schema
      .regex(/^[^\u0000]*$/, 'must not contain NUL characters')
  )
}

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

/** What a principal may do: roles gate the admin API; scopes gate channels and direct messages. */
export const ROLES = ['admin', 'agent', 'client', 'connector'] as const
export const Role = z.enum(ROLES)
export type Role = z.infer<typeof Role>

/**
 * `<action>:<pattern>` where action is publish, subscribe, send, mcp (`mcp:list`, `mcp:call`) or `*`, and `*` in
 * the pattern matches any run.
 */
export const Scope = z
  .string()
  .min(3)
  .max(200)
  .regex(
    /^(publish|subscribe|send|mcp|\*):[A-Za-z0-9_\-.:/@$*]+$/,
    'scopes look like publish:alerts.*, send:* or mcp:call',
  )

/** Any JSON value except `undefined`: frames arrive as parsed JSON, so only presence is checked. */
export const JsonData = z.unknown().refine((value) => value !== undefined, { message: 'data is required' })

/** Position in a channel's stream: the offset of the last publication seen and the stream's epoch. */
export const StreamPosition = z.object({
  offset: z.number().int().nonnegative(),
  epoch: z.string().min(1).max(64),
})
export type StreamPosition = z.infer<typeof StreamPosition>

/** Caller-chosen key that makes a publish or send idempotent within the dedupe window. */
export const IdempotencyKey = z.string().min(1).max(128)

/** Server-assigned id of one delivery (one message to one recipient); the same across redeliveries. */
export const DeliveryId = z.string().min(1).max(64)
