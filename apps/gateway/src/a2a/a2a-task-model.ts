import { randomUUID } from 'node:crypto'
import { type Artifact, type Part, TaskState } from '@a2a-js/sdk'
import {
  type A2aAgentTaskState,
  A2aArtifactChunk,
  type A2aPartInput,
  A2aStatusChunk,
  isA2aTaskChunk,
} from '@parley/protocol'
import { dataParts } from './a2a-parts.js'

/**
 * The gateway's side of the task model an agent may speak (`{ a2a: { status } }` / `{ a2a: { artifact } }`
 * chunks, see `@parley/protocol`'s a2a-task-model.ts): what one chunk means for the task.
 */
export type TaskChunkMeaning =
  | { kind: 'plain' }
  | { kind: 'invalid'; message: string }
  | { kind: 'status'; state: A2aAgentTaskState; message: string | undefined }
  | { kind: 'artifact'; artifact: Artifact; append: boolean; lastChunk: boolean }

export const TASK_STATE_OF: Record<A2aAgentTaskState, TaskState> = {
  working: TaskState.TASK_STATE_WORKING,
  'input-required': TaskState.TASK_STATE_INPUT_REQUIRED,
  'auth-required': TaskState.TASK_STATE_AUTH_REQUIRED,
  completed: TaskState.TASK_STATE_COMPLETED,
  failed: TaskState.TASK_STATE_FAILED,
}

function sdkPart(part: A2aPartInput): Part {
  const common = { filename: part.filename ?? '', metadata: part.metadata ?? {} }
  if (part.text !== undefined)
    return {
      ...common,
      content: { $case: 'text', value: part.text },
      mediaType: part.mediaType ?? 'text/plain',
    }
  if (part.url !== undefined)
    return { ...common, content: { $case: 'url', value: part.url }, mediaType: part.mediaType ?? '' }
  if (part.raw !== undefined)
    return {
      ...common,
      content: { $case: 'raw', value: Buffer.from(part.raw, 'base64') },
      mediaType: part.mediaType ?? 'application/octet-stream',
    }
  return {
    ...common,
    content: { $case: 'data', value: part.data ?? null },
    mediaType: part.mediaType ?? 'application/json',
  }
}

/**
 * Reads one chunk (or a request's answer) of an agent. `lastArtifactId` is the call's previous artifact: an
 * artifact without `artifactId` appends to it when `append` is set, and starts a fresh one otherwise.
 */
export function taskChunkMeaning(data: unknown, lastArtifactId: string | undefined): TaskChunkMeaning {
  if (!isA2aTaskChunk(data)) return { kind: 'plain' }
  // Checked against the schema its key names, so the error points at the field that is wrong.
  const parsed = ('status' in (data as { a2a: object }).a2a ? A2aStatusChunk : A2aArtifactChunk).safeParse(
    data,
  )
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue === undefined ? '' : `${issue.path.join('.')}: `
    return { kind: 'invalid', message: `invalid A2A task chunk: ${where}${issue?.message ?? 'bad shape'}` }
  }
  const chunk = parsed.data.a2a
  if ('status' in chunk) return { kind: 'status', state: chunk.status.state, message: chunk.status.message }
  const input = chunk.artifact
  const append = input.append ?? false
  const artifactId =
    input.artifactId ?? (append && lastArtifactId !== undefined ? lastArtifactId : randomUUID())
  const parts =
    input.parts !== undefined
      ? input.parts.map(sdkPart)
      : dataParts(input.text !== undefined ? input.text : (input.data ?? null))
  return {
    kind: 'artifact',
    artifact: {
      artifactId,
      name: input.name ?? '',
      description: input.description ?? '',
      parts,
      metadata: input.metadata ?? {},
      extensions: [],
    },
    append,
    lastChunk: input.lastChunk ?? false,
  }
}
