import type { TaskJson } from './types.js'

/**
 * A task's artifacts are not rewritten on every artifact event (a stream of thousands of chunks would
 * rewrite a growing list each time): they are folded from the task's artifact events when a task is read,
 * as the SDK's ResultManager folds them.
 */

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

export function mergeObjects(existing: unknown, added: Record<string, unknown>): Record<string, unknown> {
  return { ...(isObject(existing) ? existing : {}), ...added }
}

/**
 * Adds one artifact update (an artifact event's payload) to the list: replace or add by id, or (with
 * `append`) add its parts to the existing one's, take its name and description when it has them and merge
 * its metadata.
 */
function mergeArtifact(artifacts: Record<string, unknown>[], payload: unknown): void {
  const artifact = isObject(payload) ? payload.artifact : undefined
  if (!isObject(artifact)) return
  const index = artifacts.findIndex((existing) => existing.artifactId === artifact.artifactId)
  const existing = artifacts[index]
  if (existing === undefined) {
    artifacts.push(artifact)
  } else if (isObject(payload) && payload.append === true) {
    const parts = [
      ...(Array.isArray(existing.parts) ? existing.parts : []),
      ...(Array.isArray(artifact.parts) ? artifact.parts : []),
    ]
    const { name, description, metadata } = artifact
    artifacts[index] = {
      ...existing,
      parts,
      ...(typeof name === 'string' && name !== '' ? { name } : {}),
      ...(typeof description === 'string' && description !== '' ? { description } : {}),
      ...(isObject(metadata) ? { metadata: mergeObjects(existing.metadata, metadata) } : {}),
    }
  } else {
    artifacts[index] = artifact
  }
}

/** The artifacts made by a task's artifact events (their payloads as JSON text), in sequence order. */
export function foldArtifacts(payloads: Iterable<string>): TaskJson[] {
  const artifacts: Record<string, unknown>[] = []
  for (const payload of payloads) mergeArtifact(artifacts, JSON.parse(payload))
  return artifacts as TaskJson[]
}
