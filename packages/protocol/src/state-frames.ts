import { z } from 'zod'
import { JsonData, RequestId } from './primitives.js'

/** Shared state frames: keys in namespaces, versioned writes, history and watches. See docs/protocol.md. */

// ---------------------------------------------------------------- client -> server

/** Shared state namespace: the same characters as channel names, 1-100 of them. */
export const StateNamespace = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_\-.:/@]+$/, 'namespaces use letters, digits and _ - . : / @')
export const StateKey = z.string().min(1).max(256)

export const StateGetFrame = z.object({
  type: z.literal('state_get'),
  id: RequestId,
  namespace: StateNamespace,
  key: StateKey,
})
/** Writes a key; with `expectedVersion` only when the key is at that version now (0: must not exist). */
export const StateSetFrame = z.object({
  type: z.literal('state_set'),
  id: RequestId,
  namespace: StateNamespace,
  key: StateKey,
  value: JsonData,
  expectedVersion: z.number().int().nonnegative().optional(),
})
export const StateDeleteFrame = z.object({
  type: z.literal('state_delete'),
  id: RequestId,
  namespace: StateNamespace,
  key: StateKey,
  expectedVersion: z.number().int().nonnegative().optional(),
})
export const StateListFrame = z.object({
  type: z.literal('state_list'),
  id: RequestId,
  namespace: StateNamespace,
  after: StateKey.optional(),
  limit: z.number().int().min(1).max(1_000).optional(),
})
export const StateHistoryFrame = z.object({
  type: z.literal('state_history'),
  id: RequestId,
  namespace: StateNamespace,
  key: StateKey,
  limit: z.number().int().min(1).max(1_000).optional(),
})
/** Pushes every later version of one key (or of every key of the namespace) as `state_change`. */
export const StateWatchFrame = z.object({
  type: z.literal('state_watch'),
  id: RequestId,
  namespace: StateNamespace,
  key: StateKey.optional(),
})
export const StateUnwatchFrame = z.object({
  type: z.literal('state_unwatch'),
  id: RequestId,
  namespace: StateNamespace,
  key: StateKey.optional(),
})

// ---------------------------------------------------------------- server -> client

/** One version of a watched key (deletions included), in version order per key. */
export const StateChangeFrame = z.object({
  type: z.literal('state_change'),
  namespace: StateNamespace,
  key: StateKey,
  version: z.number().int().positive(),
  value: z.unknown(),
  deleted: z.boolean(),
  updatedBy: z.string(),
  updatedAt: z.number(),
})

// ---------------------------------------------------------------- request results (`reply.result`)

export const StateEntry = z.object({
  namespace: StateNamespace,
  key: StateKey,
  value: z.unknown(),
  version: z.number().int().positive(),
  updatedAt: z.number(),
  updatedBy: z.string(),
})
export const StateVersionEntry = z.object({
  version: z.number().int().positive(),
  value: z.unknown(),
  deleted: z.boolean(),
  updatedAt: z.number(),
  updatedBy: z.string(),
})
export const StateGetResult = z.object({ entry: StateEntry.nullable() })
export const StateSetResult = z.object({ entry: StateEntry })
export const StateDeleteResult = z.object({
  deleted: z.boolean(),
  /** The version the deletion took, when it deleted. */
  version: z.number().int().positive().optional(),
})
export const StateListResult = z.object({ entries: z.array(StateEntry) })
export const StateHistoryResult = z.object({ versions: z.array(StateVersionEntry) })
/** The watch is live: `entries` are the current values (one key, or the namespace's first 1,000). */
export const StateWatchResult = z.object({
  namespace: StateNamespace,
  key: StateKey.optional(),
  entries: z.array(StateEntry),
})
export const StateUnwatchResult = z.object({ namespace: StateNamespace, key: StateKey.optional() })

export type StateGetFrame = z.infer<typeof StateGetFrame>
export type StateSetFrame = z.infer<typeof StateSetFrame>
export type StateDeleteFrame = z.infer<typeof StateDeleteFrame>
export type StateListFrame = z.infer<typeof StateListFrame>
export type StateHistoryFrame = z.infer<typeof StateHistoryFrame>
export type StateWatchFrame = z.infer<typeof StateWatchFrame>
export type StateUnwatchFrame = z.infer<typeof StateUnwatchFrame>
export type StateChangeFrame = z.infer<typeof StateChangeFrame>
export type StateEntryWire = z.infer<typeof StateEntry>
export type StateVersionEntry = z.infer<typeof StateVersionEntry>
export type StateWatchResult = z.infer<typeof StateWatchResult>
