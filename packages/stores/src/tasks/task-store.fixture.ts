import { T0 } from '../identity/identity-fixture.js'
import type { CreateTaskInput, TaskEventInput, TaskStore, TaskStoreOptions } from './types.js'

/** What the task store suites need: stores on empty storage, and events as the A2A face would write them. */

export interface TaskStoreFixture {
  /** A store on the fixture's (empty) storage; the fixture supplies a `secretKey` when none is given. */
  createStore(options?: TaskStoreOptions): TaskStore
  teardown(): Promise<void>
}

export const OWNER = 'caller-1'
export const AGENT = 'agent-1'

export function taskInput(id: string, overrides: Partial<CreateTaskInput> = {}): CreateTaskInput {
  return { id, contextId: 'ctx-1', agentId: AGENT, owner: OWNER, now: T0, ...overrides }
}

export function statusEvent(
  state: Extract<TaskEventInput, { kind: 'status' }>['state'],
  now = T0,
  text?: string,
): TaskEventInput {
  const message =
    text === undefined
      ? undefined
      : { role: 'agent', messageId: `s-${text}`, parts: [{ kind: 'text', text }] }
  return {
    kind: 'status',
    state,
    payload: { kind: 'status-update', status: { state, message, timestamp: new Date(now).toISOString() } },
    now,
  }
}

export function artifactEvent(
  artifactId: string,
  parts: unknown[],
  append = false,
  now = T0,
): TaskEventInput {
  return {
    kind: 'artifact',
    payload: { kind: 'artifact-update', artifact: { artifactId, parts }, append },
    now,
  }
}

export function messageEvent(text: string, now = T0): TaskEventInput {
  return { kind: 'message', payload: { role: 'user', messageId: text, parts: [{ kind: 'text', text }] }, now }
}

/**
 * `count` appends started at once on one task (spread over `stores`, as on several nodes); resolves the
 * sequence numbers they were given, in completion order.
 */
export async function concurrentAppends(
  stores: TaskStore[],
  taskId: string,
  count: number,
): Promise<number[]> {
  const results = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      (stores[index % stores.length] as TaskStore).appendEvent(taskId, artifactEvent(`a-${index}`, [index])),
    ),
  )
  return results.map((result) => result.event.seq)
}
