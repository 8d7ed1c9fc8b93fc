import { randomUUID } from 'node:crypto'
import { type Message, type Part, Role } from '@a2a-js/sdk'

/** JSON a Parley agent's handler receives or returns. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/**
 * One A2A part as Parley data: a text part is its text, a data part its value, a file part its metadata
 * (`{ file: { name, mediaType, url } }` or, for inline bytes, `{ file: { name, mediaType, bytes } }` in base64).
 */
function partData(part: Part): JsonValue {
  const content = part.content
  switch (content?.$case) {
    case 'text':
      return content.value
    case 'data':
      return (content.value ?? null) as JsonValue
    case 'url':
      return { file: { name: part.filename, mediaType: part.mediaType, url: content.value } }
    case 'raw':
      return {
        file: {
          name: part.filename,
          mediaType: part.mediaType,
          bytes: Buffer.from(content.value).toString('base64'),
        },
      }
    default:
      return null
  }
}

/** What a Parley agent's handler gets for an A2A message: one part as itself, several as an array. */
export function messageData(message: Message): JsonValue {
  const parts = message.parts ?? []
  if (parts.length === 1 && parts[0] !== undefined) return partData(parts[0])
  return parts.map(partData)
}

/** A Parley answer or chunk as A2A parts: a string is a text part, anything else a data part. */
export function dataParts(data: unknown): Part[] {
  if (typeof data === 'string')
    return [{ content: { $case: 'text', value: data }, mediaType: 'text/plain', filename: '', metadata: {} }]
  return [
    {
      content: { $case: 'data', value: data ?? null },
      mediaType: 'application/json',
      filename: '',
      metadata: {},
    },
  ]
}

/** A message from the agent in a task (a status message, such as why it failed). */
export function agentMessage(
  taskId: string,
  contextId: string,
  text: string,
  metadata?: Record<string, unknown>,
): Message {
  return {
    messageId: randomUUID(),
    taskId,
    contextId,
    role: Role.ROLE_AGENT,
    parts: dataParts(text),
    metadata: metadata ?? {},
    extensions: [],
    referenceTaskIds: [],
  }
}
