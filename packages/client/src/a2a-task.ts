import {
  type A2aAgentTaskState,
  A2aArtifactChunk,
  type A2aArtifactInput,
  A2aStatusChunk,
  type A2aTaskChunk,
} from '@parley/protocol'
import { ParleyError } from './errors.js'

/**
 * A2A's task model for a Parley agent (docs/a2a.md, "Speaking A2A's task model from a Parley agent"): the data
 * of a stream chunk (or a request handler's answer) that the gateway's A2A face publishes as a task status or
 * artifact update. Plain Parley callers see these chunks as ordinary data.
 */

function checked<T extends A2aTaskChunk>(
  schema: typeof A2aStatusChunk | typeof A2aArtifactChunk,
  data: unknown,
): T {
  const parsed = schema.safeParse(data)
  if (parsed.success) return parsed.data as T
  const issue = parsed.error.issues[0]
  throw new ParleyError({
    code: 'bad_request',
    message: `invalid A2A task chunk: ${issue === undefined ? 'bad shape' : `${issue.path.join('.')}: ${issue.message}`}`,
  })
}

/** `{ a2a: { status: { state, message } } }`: sets the task's state; `message` is e.g. the question of `input-required`. */
export function a2aStatus(state: A2aAgentTaskState, message?: string): A2aStatusChunk {
  return checked(A2aStatusChunk, { a2a: { status: message === undefined ? { state } : { state, message } } })
}

/** `{ a2a: { artifact } }`: an artifact update (exactly one of `parts`, `text`, `data`). */
export function a2aArtifact(artifact: A2aArtifactInput): A2aArtifactChunk {
  return checked(A2aArtifactChunk, { a2a: { artifact } })
}
