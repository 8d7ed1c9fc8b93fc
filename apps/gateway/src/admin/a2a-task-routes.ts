import type { A2aTaskArtifact, A2aTaskInfo, A2aTaskPart, A2aTaskState } from '@parley/protocol'
import type { TaskJson, TaskRecord, TaskStore } from '@parley/stores'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

/** A part's readable text is cut here: the dashboard shows artifacts, it does not download them. */
const MAX_PART_TEXT = 4_000

type JsonObject = Record<string, unknown>

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

function cut(text: string): string {
  return text.length <= MAX_PART_TEXT ? text : `${text.slice(0, MAX_PART_TEXT - 1)}…`
}

/**
 * One stored part (v1.0 JSON `{ text }` / `{ data }` / `{ url | raw, filename }`, or v0.3 `{ kind, … }`)
 * made readable. File bytes are never returned: only the file's name or URL.
 */
function partOf(part: unknown): A2aTaskPart {
  if (!isObject(part)) return { kind: 'other', text: '', mediaType: null }
  const mediaType = stringOrNull(part.mediaType) ?? stringOrNull(part.mimeType)
  if (typeof part.text === 'string') return { kind: 'text', text: cut(part.text), mediaType }
  if ('data' in part) return { kind: 'data', text: cut(JSON.stringify(part.data) ?? 'null'), mediaType }
  const file = isObject(part.file) ? part.file : part
  const fileName =
    stringOrNull(file.filename) ??
    stringOrNull(file.name) ??
    stringOrNull(file.url) ??
    stringOrNull(file.uri) ??
    (typeof file.raw === 'string' || typeof file.bytes === 'string' ? '(inline bytes)' : null)
  if (fileName !== null) {
    return { kind: 'file', text: cut(fileName), mediaType: mediaType ?? stringOrNull(file.mimeType) }
  }
  return { kind: 'other', text: cut(JSON.stringify(part)), mediaType }
}

function artifactOf(artifact: TaskJson): A2aTaskArtifact {
  const value = isObject(artifact) ? artifact : {}
  return {
    artifactId: typeof value.artifactId === 'string' ? value.artifactId : '',
    name: stringOrNull(value.name),
    description: stringOrNull(value.description),
    parts: Array.isArray(value.parts) ? value.parts.map(partOf) : [],
  }
}

/** The text parts of the latest status message, joined (the agent's question, its failure reason). */
function statusMessageOf(status: TaskJson | null): string | null {
  if (!isObject(status) || !isObject(status.message)) return null
  const parts = Array.isArray(status.message.parts) ? status.message.parts : []
  const texts = parts.map(partOf).filter((part) => part.kind === 'text')
  return texts.length === 0 ? null : cut(texts.map((part) => part.text).join('\n'))
}

export function a2aTaskInfo(record: TaskRecord): A2aTaskInfo {
  return {
    id: record.id,
    contextId: record.contextId,
    agentId: record.agentId,
    owner: record.owner,
    state: record.state as A2aTaskState,
    statusMessage: statusMessageOf(record.status),
    artifacts: record.artifacts.map(artifactOf),
    events: record.lastSeq,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  }
}

/**
 * The operator's read of durable A2A tasks, for the Conversation view: `GET /api/admin/a2a/tasks/:id?agentId=`
 * (the audit row of an A2A call names the task as its correlation id and the agent as its target) and
 * `GET /api/admin/a2a/tasks?owner=&agentId=` (one caller's tasks, newest change first). State, the status
 * message and the artifacts made readable; history and push configs stay with the A2A caller.
 */
export function registerA2aTaskRoutes(app: GatewayApp, deps: { tasks: () => TaskStore }): void {
  mountAdminRoutes(app, {
    a2aTask: async (_c, request) => {
      const { agentId } = request.query()
      const taskId = request.params.id
      const record = await deps.tasks().get(taskId, { agentId })
      if (record === undefined)
        throw new GatewayError('not_found', `no A2A task ${taskId} of agent ${agentId}`)
      return a2aTaskInfo(record)
    },
    a2aTasks: async (_c, request) => {
      const query = request.query()
      const page = await deps.tasks().list({
        owner: query.owner,
        pageSize: query.pageSize,
        includeArtifacts: true,
        ...(query.agentId === undefined ? {} : { agentId: query.agentId }),
        ...(query.pageToken === undefined ? {} : { pageToken: query.pageToken }),
      })
      return { tasks: page.tasks.map(a2aTaskInfo), nextPageToken: page.nextPageToken }
    },
  })
}
