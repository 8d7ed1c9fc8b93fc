import { decodeCursorPair, encodeCursorPair } from '../cursor.js'
import { InvalidCursorError, InvalidTaskError } from '../errors.js'
import {
  checkTaskName,
  checkTaskState,
  compareTasksNewestFirst,
  DEFAULT_TASK_PAGE_SIZE,
  MAX_TASK_PAGE_SIZE,
  type StoredTask,
} from './task-records.js'
import type { TaskListQuery, TaskState } from './types.js'

/** Where the previous page ended: the last task's (updatedAt, id). */
export interface TaskListPosition {
  updatedAt: number
  id: string
}

export interface CheckedTaskListQuery {
  owner: string
  agentId: string | undefined
  contextId: string | undefined
  state: TaskState | undefined
  updatedAfter: number | undefined
  pageSize: number
  after: TaskListPosition | undefined
  includeArtifacts: boolean
}

const MAX_CURSOR_LENGTH = 1_024

export function encodeTaskPageToken(position: TaskListPosition): string {
  return encodeCursorPair(position.updatedAt, position.id)
}

export function decodeTaskPageToken(token: string): TaskListPosition {
  const [updatedAt, id] = decodeCursorPair(token, MAX_CURSOR_LENGTH)
  if (!Number.isSafeInteger(updatedAt) || typeof id !== 'string' || id === '') throw new InvalidCursorError()
  return { updatedAt: updatedAt as number, id }
}

export function checkTaskListQuery(query: TaskListQuery): CheckedTaskListQuery {
  if (query === null || typeof query !== 'object') {
    throw new InvalidTaskError('query', 'The list query must be an object with an owner.')
  }
  const pageSize = query.pageSize ?? DEFAULT_TASK_PAGE_SIZE
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > MAX_TASK_PAGE_SIZE) {
    throw new InvalidTaskError('pageSize', `pageSize must be an integer from 1 to ${MAX_TASK_PAGE_SIZE}.`)
  }
  const updatedAfter = query.updatedAfter
  if (updatedAfter !== undefined && !Number.isSafeInteger(updatedAfter)) {
    throw new InvalidTaskError('updatedAfter', 'updatedAfter must be an integer of epoch milliseconds.')
  }
  return {
    owner: checkTaskName('owner', query.owner),
    agentId: query.agentId === undefined ? undefined : checkTaskName('agentId', query.agentId),
    contextId: query.contextId === undefined ? undefined : checkTaskName('contextId', query.contextId),
    state: query.state === undefined ? undefined : checkTaskState('state', query.state),
    updatedAfter,
    pageSize,
    after:
      query.pageToken === undefined || query.pageToken === ''
        ? undefined
        : decodeTaskPageToken(query.pageToken),
    includeArtifacts: query.includeArtifacts === true,
  }
}

/** Whether a task passes the query's filters (owner included; the page position is not a filter). */
export function taskMatches(task: StoredTask, query: CheckedTaskListQuery): boolean {
  return (
    task.owner === query.owner &&
    (query.agentId === undefined || task.agentId === query.agentId) &&
    (query.contextId === undefined || task.contextId === query.contextId) &&
    (query.state === undefined || task.state === query.state) &&
    (query.updatedAfter === undefined || task.updatedAt > query.updatedAfter)
  )
}

/** Whether a task comes after the page position in list order. */
export function taskAfter(
  task: Pick<StoredTask, 'updatedAt' | 'id'>,
  after: TaskListPosition | undefined,
): boolean {
  return after === undefined || compareTasksNewestFirst(after, task) < 0
}

/**
 * One page from every matching task, for stores that filter in this process: sorted, cut after the
 * position, with the next token when more follow.
 */
export function pageOfTasks(
  matching: StoredTask[],
  query: CheckedTaskListQuery,
): { tasks: StoredTask[]; nextPageToken: string | null; total: number } {
  const sorted = [...matching].sort(compareTasksNewestFirst)
  const rest = sorted.filter((task) => taskAfter(task, query.after))
  const tasks = rest.slice(0, query.pageSize)
  const last = tasks.at(-1)
  return {
    tasks,
    nextPageToken: rest.length > tasks.length && last !== undefined ? encodeTaskPageToken(last) : null,
    total: sorted.length,
  }
}
