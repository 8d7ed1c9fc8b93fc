import { z } from 'zod'
import { JsonData } from './primitives.js'

/**
 * A2A's task model spoken by a Parley agent (see docs/a2a.md, "Speaking A2A's task model from a Parley agent").
 * No new frame: a stream chunk (or a request's answer) whose data is exactly `{ "a2a": { "status": … } }` or
 * `{ "a2a": { "artifact": … } }` is a task event for the gateway's A2A face, which publishes it as a
 * TaskStatusUpdateEvent / TaskArtifactUpdateEvent. Any other data is a plain chunk, as before.
 */

/** The task states an agent may set (A2A's `TASK_STATE_*` in lower-case kebab form). */
export const A2A_AGENT_TASK_STATES = [
  'working',
  'input-required',
  'auth-required',
  'completed',
  'failed',
] as const
export const A2aAgentTaskState = z.enum(A2A_AGENT_TASK_STATES)

/** States that end the call: the task waits for the caller (`input-required`, `auth-required`) or is over. */
export const A2A_CALL_ENDING_STATES: readonly A2aAgentTaskState[] = [
  'input-required',
  'auth-required',
  'completed',
  'failed',
]

/** One part of an artifact: exactly one of `text`, `data`, `url` (a file by reference) or `raw` (base64 bytes). */
export const A2aPartInput = z
  .object({
    text: z.string().optional(),
    data: JsonData.optional(),
    url: z.string().url().optional(),
    raw: z.string().base64().optional(),
    filename: z.string().max(500).optional(),
    mediaType: z.string().max(200).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((part) => [part.text, part.data, part.url, part.raw].filter((v) => v !== undefined).length === 1, {
    message: 'a part carries exactly one of text, data, url and raw',
  })

/** `{ a2a: { status } }`: the task's state, with an optional message (the question for `input-required`). */
export const A2aStatusChunk = z
  .object({
    a2a: z
      .object({
        status: z.object({ state: A2aAgentTaskState, message: z.string().max(10_000).optional() }).strict(),
      })
      .strict(),
  })
  .strict()

/**
 * `{ a2a: { artifact } }`: an artifact update. Content is `parts`, or `text`, or `data` (exactly one).
 * Without `artifactId` a new artifact starts (with `append: true`: the call's last artifact grows).
 */
export const A2aArtifactChunk = z
  .object({
    a2a: z
      .object({
        artifact: z
          .object({
            artifactId: z.string().min(1).max(200).optional(),
            name: z.string().max(200).optional(),
            description: z.string().max(2_000).optional(),
            parts: z.array(A2aPartInput).min(1).max(100).optional(),
            text: z.string().optional(),
            data: JsonData.optional(),
            append: z.boolean().optional(),
            lastChunk: z.boolean().optional(),
            metadata: z.record(z.string(), z.unknown()).optional(),
          })
          .strict()
          .refine((a) => [a.parts, a.text, a.data].filter((v) => v !== undefined).length === 1, {
            message: 'an artifact carries exactly one of parts, text and data',
          }),
      })
      .strict(),
  })
  .strict()

export const A2aTaskChunk = z.union([A2aStatusChunk, A2aArtifactChunk])

/**
 * Whether data is meant as a task event: an object whose only key is `a2a`, holding an object with `status` or
 * `artifact`. Such data is validated with `A2aTaskChunk`; anything else is a plain chunk.
 */
export function isA2aTaskChunk(data: unknown): boolean {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false
  const keys = Object.keys(data)
  if (keys.length !== 1 || keys[0] !== 'a2a') return false
  const inner = (data as { a2a: unknown }).a2a
  return typeof inner === 'object' && inner !== null && ('status' in inner || 'artifact' in inner)
}

/**
 * The A2A task a request or stream runs as, in `Caller.a2aTask` (`request_incoming` / `stream_incoming`'s
 * `from`): set only when an A2A caller sent the message. `continued` is true when the message continues an
 * existing task (the caller sent its `taskId`, e.g. answering `input-required`).
 */
export const A2aTaskRef = z.object({
  taskId: z.string().min(1).max(200),
  contextId: z.string().min(1).max(200),
  continued: z.boolean(),
})

export type A2aAgentTaskState = z.infer<typeof A2aAgentTaskState>
export type A2aPartInput = z.infer<typeof A2aPartInput>
export type A2aStatusChunk = z.infer<typeof A2aStatusChunk>
export type A2aArtifactChunk = z.infer<typeof A2aArtifactChunk>
export type A2aArtifactInput = A2aArtifactChunk['a2a']['artifact']
export type A2aTaskChunk = z.infer<typeof A2aTaskChunk>
export type A2aTaskRef = z.infer<typeof A2aTaskRef>
