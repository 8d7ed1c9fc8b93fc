import { TaskExistsError, TaskNotFoundError, TaskPushConfigLimitError } from '../errors.js'
import { foldArtifacts } from './task-artifacts.js'
import { checkTaskListQuery, pageOfTasks, taskMatches } from './task-list.js'
import {
  comparePushConfigs,
  newStoredPushConfig,
  type StoredPushConfig,
  toTaskPushConfig,
  toTaskPushTarget,
} from './task-push-configs.js'
import {
  applyTaskEvent,
  checkCutoff,
  checkEventsQuery,
  checkHistoryLength,
  checkStaleQuery,
  checkTaskEvent,
  checkTaskName,
  checkTaskScope,
  compareTasksOldestFirst,
  historyMessage,
  isTerminalTaskState,
  newStoredTask,
  type StoredTask,
  type StoredTaskEvent,
  taskInScope,
  toTaskEvent,
  toTaskRecord,
  toTaskSummary,
} from './task-records.js'
import { resolveTaskStoreOptions } from './task-store-options.js'
import type { TaskScope, TaskStore, TaskStoreOptions } from './types.js'

interface MemoryTask {
  task: StoredTask
  events: StoredTaskEvent[]
  pushConfigs: Map<string, StoredPushConfig>
}

/**
 * Tasks in memory: one node only, gone on restart. JSON is kept as text, so every read returns a fresh
 * copy, as the Postgres store does. Every write checks and changes its task with no await in between, so
 * it is atomic in this process.
 */
export function createMemoryTaskStore(options: TaskStoreOptions = {}): TaskStore {
  const settings = resolveTaskStoreOptions(options, { requireSecretKey: false })
  const tasks = new Map<string, MemoryTask>()

  function artifactsOf(entry: MemoryTask) {
    return foldArtifacts(
      entry.events.filter((event) => event.kind === 'artifact').map((event) => event.payload),
    )
  }

  function visible(taskId: string, scope: TaskScope): MemoryTask | undefined {
    const entry = tasks.get(checkTaskName('taskId', taskId))
    return entry !== undefined && taskInScope(entry.task, checkTaskScope(scope)) ? entry : undefined
  }

  function required(taskId: string, scope: TaskScope): MemoryTask {
    const entry = visible(taskId, scope)
    if (entry === undefined) throw new TaskNotFoundError(taskId)
    return entry
  }

  return {
    async create(input) {
      const { task, event } = newStoredTask(input, settings)
      if (tasks.has(task.id)) throw new TaskExistsError(task.id)
      tasks.set(task.id, { task, events: event === undefined ? [] : [event], pushConfigs: new Map() })
      return toTaskRecord(task)
    },

    async get(taskId, scope) {
      const entry = visible(taskId, scope)
      return entry === undefined ? undefined : toTaskRecord(entry.task, artifactsOf(entry))
    },

    async appendEvent(taskId, input) {
      const checked = checkTaskEvent(input, settings)
      const entry = tasks.get(checkTaskName('taskId', taskId))
      if (entry === undefined) throw new TaskNotFoundError(taskId)
      const { task, event } = applyTaskEvent(entry.task, checked, settings)
      entry.task = task
      entry.events.push(event)
      return { event: toTaskEvent(event), task: toTaskSummary(task) }
    },

    async events(taskId, scope, query) {
      const { afterSeq, limit } = checkEventsQuery(query)
      // Sequence numbers are 1, 2, 3, …: event n is at index n - 1.
      return required(taskId, scope)
        .events.slice(afterSeq, afterSeq + limit)
        .map(toTaskEvent)
    },

    async history(taskId, scope, historyLength) {
      const length = checkHistoryLength(historyLength)
      const messages = required(taskId, scope).events.filter((event) => event.inHistory)
      return length === 0 ? [] : messages.slice(-length).map(historyMessage)
    },

    async list(query) {
      const checked = checkTaskListQuery(query)
      const matching = [...tasks.values()]
        .map((entry) => entry.task)
        .filter((task) => taskMatches(task, checked))
      const page = pageOfTasks(matching, checked)
      return {
        tasks: page.tasks.map((task) => {
          const entry = tasks.get(task.id) as MemoryTask
          return toTaskRecord(task, checked.includeArtifacts ? artifactsOf(entry) : [])
        }),
        nextPageToken: page.nextPageToken,
        total: page.total,
      }
    },

    async setPushConfig(taskId, scope, input) {
      const entry = required(taskId, { owner: scope?.owner })
      const stored = newStoredPushConfig(entry.task.id, input, settings.secrets)
      const existing = entry.pushConfigs.get(stored.id)
      if (existing === undefined && entry.pushConfigs.size >= settings.maxPushConfigsPerTask) {
        throw new TaskPushConfigLimitError(entry.task.id, settings.maxPushConfigsPerTask)
      }
      // A replaced config keeps its place in the list.
      const kept = existing === undefined ? stored : { ...stored, createdAt: existing.createdAt }
      entry.pushConfigs.set(stored.id, kept)
      return toTaskPushConfig(kept)
    },

    async getPushConfig(taskId, scope, configId) {
      const stored = required(taskId, { owner: scope?.owner }).pushConfigs.get(
        checkTaskName('configId', configId),
      )
      return stored === undefined ? undefined : toTaskPushConfig(stored)
    },

    async listPushConfigs(taskId, scope) {
      return [...required(taskId, { owner: scope?.owner }).pushConfigs.values()]
        .sort(comparePushConfigs)
        .map(toTaskPushConfig)
    },

    async deletePushConfig(taskId, scope, configId) {
      return required(taskId, { owner: scope?.owner }).pushConfigs.delete(checkTaskName('configId', configId))
    },

    async pushTargets(taskId) {
      const entry = tasks.get(checkTaskName('taskId', taskId))
      if (entry === undefined) return []
      return [...entry.pushConfigs.values()]
        .sort(comparePushConfigs)
        .map((stored) => toTaskPushTarget(stored, settings.secrets))
    },

    async listStale(query) {
      const { updatedBefore, limit } = checkStaleQuery(query)
      return [...tasks.values()]
        .map((entry) => entry.task)
        .filter((task) => !isTerminalTaskState(task.state) && task.updatedAt < updatedBefore)
        .sort(compareTasksOldestFirst)
        .slice(0, limit)
        .map(toTaskSummary)
    },

    async close() {},

    async deleteExpired(before) {
      const cutoff = checkCutoff(before)
      let deleted = 0
      for (const [id, { task }] of tasks) {
        if (isTerminalTaskState(task.state) && task.updatedAt < cutoff) {
          tasks.delete(id)
          deleted += 1
        }
      }
      return deleted
    },
  }
}
