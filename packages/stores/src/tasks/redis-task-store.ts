import type { Redis, RedisOptions } from 'ioredis'
import { StoreError, TaskExistsError, TaskNotFoundError, TaskPushConfigLimitError } from '../errors.js'
import { closeRedis, connectRedis } from '../redis-connection.js'
import { defineTaskScripts } from './redis-task-scripts.js'
import {
  type AppendOutcome,
  type AppendRequest,
  applyAppendBatch,
  createKeyedBatches,
  settleAppend,
} from './task-append-batch.js'
import { foldArtifacts } from './task-artifacts.js'
import {
  type CheckedTaskListQuery,
  checkTaskListQuery,
  encodeTaskPageToken,
  pageOfTasks,
  taskAfter,
  taskMatches,
} from './task-list.js'
import {
  comparePushConfigs,
  newStoredPushConfig,
  type StoredPushConfig,
  toTaskPushConfig,
  toTaskPushTarget,
} from './task-push-configs.js'
import {
  checkCutoff,
  checkEventsQuery,
  checkHistoryLength,
  checkStaleQuery,
  checkTaskEvent,
  checkTaskName,
  checkTaskScope,
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
import type { TaskJson, TaskScope, TaskStore, TaskStoreOptions } from './types.js'

export interface RedisTaskStoreOptions extends TaskStoreOptions {
  /** A `redis://` / `rediss://` URL or ioredis options (host, port, db, password, tls…). */
  redis: string | RedisOptions
  /** Start of every key, so several deployments can share one Redis; default `parley:`. */
  prefix?: string
  /** Told about connection errors (commands still fail on their own); ioredis retries the connection. */
  onError?: (error: Error) => void
}

const DEFAULT_PREFIX = 'parley:'
/** Compare-and-set rounds of one batch before it gives up (only other nodes' appends can make it retry). */
const MAX_APPEND_ATTEMPTS = 100
/** Events per append script. */
const MAX_APPEND_BATCH = 200
/** Ids read per round trip when a list walks an owner's tasks. */
const LIST_BATCH = 500
const EXPIRED_TASKS_PER_SCRIPT = 500

/**
 * Tasks in Redis, shared by every gateway node that uses the same prefix (keys under `<prefix>{t}:`, see
 * `redis-task-scripts.ts`). An append reads the task, computes the next record in JavaScript and writes it
 * with the event in one script that checks the sequence number is still the one read (else it reads
 * again): numbers are never shared or skipped, across nodes too. Durability is Redis's: configure AOF.
 */
export function createRedisTaskStore(options: RedisTaskStoreOptions): TaskStore {
  const settings = resolveTaskStoreOptions(options, { requireSecretKey: true })
  const base = `${options.prefix ?? DEFAULT_PREFIX}{t}:`
  const redis: Redis = connectRedis(options.redis, options.onError)
  const run = defineTaskScripts(redis, base)
  const key = (kind: 'T' | 'E' | 'P' | 'PC' | 'O', id: string) => `${base}${kind}:${id}`

  async function readTask(taskId: string): Promise<StoredTask | undefined> {
    const text = await redis.hget(key('T', taskId), 'r')
    return text === null ? undefined : (JSON.parse(text) as StoredTask)
  }

  async function readTasks(ids: string[]): Promise<StoredTask[]> {
    if (ids.length === 0) return []
    const pipeline = redis.pipeline()
    for (const id of ids) pipeline.hget(key('T', id), 'r')
    const replies = (await pipeline.exec()) ?? []
    return replies.flatMap(([error, text]) => {
      if (error !== null) throw error
      // Deleted since its id was read.
      return typeof text === 'string' ? [JSON.parse(text) as StoredTask] : []
    })
  }

  async function visible(taskId: string, scope: TaskScope): Promise<StoredTask | undefined> {
    const checkedScope = checkTaskScope(scope)
    const task = await readTask(checkTaskName('taskId', taskId))
    return task !== undefined && taskInScope(task, checkedScope) ? task : undefined
  }

  async function requireVisible(taskId: string, scope: TaskScope): Promise<StoredTask> {
    const task = await visible(taskId, scope)
    if (task === undefined) throw new TaskNotFoundError(taskId)
    return task
  }

  /** The newest `count` (0: all) events of a task's index: `M` history messages, `A` artifact events. */
  async function indexedEvents(taskId: string, index: 'M' | 'A', count: number): Promise<StoredTaskEvent[]> {
    const texts = (await run('parleyTaskIndexedEvents', [taskId, index, count])) as string[]
    return texts.map((text) => JSON.parse(text) as StoredTaskEvent)
  }

  async function artifactsOf(taskId: string): Promise<TaskJson[]> {
    return foldArtifacts((await indexedEvents(taskId, 'A', 0)).map((event) => event.payload))
  }

  /**
   * One batch of appends to a task: read it, apply the events in call order, and write them with one
   * script that checks the task's sequence number is still the one read (else read again).
   */
  async function commitAppends(taskId: string, requests: AppendRequest[]): Promise<AppendOutcome[]> {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const current = await readTask(taskId)
      const { outcomes, changed, events } = applyAppendBatch(new Map([[taskId, current]]), requests, settings)
      const task = changed.get(taskId)
      if (current === undefined || task === undefined) return outcomes
      const written = await run('parleyTaskAppend', [
        taskId,
        current.lastSeq,
        JSON.stringify(task),
        task.updatedAt,
        isTerminalTaskState(task.state) ? 1 : 0,
        ...events.flatMap((event) => [
          JSON.stringify(event),
          event.kind === 'artifact' ? 'A' : event.inHistory ? 'M' : '',
        ]),
      ])
      if (written === 1) return outcomes
      if (written === -1) return requests.map(() => ({ refused: new TaskNotFoundError(taskId) }))
    }
    throw new StoreError(
      'unavailable',
      `The task changed under ${MAX_APPEND_ATTEMPTS} appends in a row on other nodes; try again.`,
    )
  }
  // A task's appends queue while its batch is in flight, and go together in the next one.
  const appends = createKeyedBatches(commitAppends, MAX_APPEND_BATCH)

  async function readPushConfigs(taskId: string): Promise<StoredPushConfig[]> {
    const [configs, createdAt] = await Promise.all([
      redis.hgetall(key('P', taskId)),
      redis.hgetall(key('PC', taskId)),
    ])
    return Object.entries(configs)
      .map(([id, text]) => {
        const stored = JSON.parse(text) as StoredPushConfig
        return { ...stored, createdAt: Number(createdAt[id] ?? stored.createdAt) }
      })
      .sort(comparePushConfigs)
  }

  /** Ids of an owner's tasks newest first, in (id, updatedAt) pairs, from `max` down to `min`. */
  async function* ownerTaskIds(owner: string, max: string, min: string): AsyncGenerator<[string, number][]> {
    for (let offset = 0; ; offset += LIST_BATCH) {
      const flat = await redis.zrevrangebyscore(
        key('O', owner),
        max,
        min,
        'WITHSCORES',
        'LIMIT',
        offset,
        LIST_BATCH,
      )
      const pairs: [string, number][] = []
      for (let index = 0; index < flat.length; index += 2) {
        pairs.push([flat[index] as string, Number(flat[index + 1])])
      }
      if (pairs.length > 0) yield pairs
      if (pairs.length < LIST_BATCH) return
    }
  }

  /**
   * Without filters beyond the owner and time, a page walks the owner's index from the page position and
   * counts with ZCOUNT. Other filters need each task's record: the owner's tasks are read and filtered
   * here (bounded by retention).
   */
  async function listTasks(query: CheckedTaskListQuery) {
    const min = query.updatedAfter === undefined ? '-inf' : `(${query.updatedAfter}`
    if (query.agentId !== undefined || query.contextId !== undefined || query.state !== undefined) {
      const matching: StoredTask[] = []
      for await (const pairs of ownerTaskIds(query.owner, '+inf', min)) {
        const tasks = await readTasks(pairs.map(([id]) => id))
        matching.push(...tasks.filter((task) => taskMatches(task, query)))
      }
      return pageOfTasks(matching, query)
    }
    const page: StoredTask[] = []
    const max = query.after === undefined ? '+inf' : String(query.after.updatedAt)
    for await (const pairs of ownerTaskIds(query.owner, max, min)) {
      const ids = pairs
        .filter(([id, updatedAt]) => taskAfter({ id, updatedAt }, query.after))
        .map(([id]) => id)
      page.push(...(await readTasks(ids)).filter((task) => taskMatches(task, query)))
      if (page.length > query.pageSize) break
    }
    const tasks = page.slice(0, query.pageSize)
    const last = tasks.at(-1)
    return {
      tasks,
      nextPageToken: page.length > tasks.length && last !== undefined ? encodeTaskPageToken(last) : null,
      total: await redis.zcount(key('O', query.owner), min, '+inf'),
    }
  }

  return {
    async create(input) {
      const { task, event } = newStoredTask(input, settings)
      const created = await run('parleyTaskCreate', [
        task.id,
        task.owner,
        JSON.stringify(task),
        task.updatedAt,
        isTerminalTaskState(task.state) ? 1 : 0,
        event === undefined ? '' : JSON.stringify(event),
      ])
      if (created !== 1) throw new TaskExistsError(task.id)
      return toTaskRecord(task)
    },

    async get(taskId, scope) {
      const task = await visible(taskId, scope)
      return task === undefined ? undefined : toTaskRecord(task, await artifactsOf(task.id))
    },

    async appendEvent(taskId, input) {
      const event = checkTaskEvent(input, settings)
      const id = checkTaskName('taskId', taskId)
      return settleAppend(await appends.submit(id, { taskId: id, event }))
    },

    async events(taskId, scope, query) {
      const { afterSeq, limit } = checkEventsQuery(query)
      const task = await requireVisible(taskId, scope)
      const texts = await redis.lrange(key('E', task.id), afterSeq, afterSeq + limit - 1)
      return texts.map((text) => toTaskEvent(JSON.parse(text) as StoredTaskEvent))
    },

    async history(taskId, scope, historyLength) {
      const length = checkHistoryLength(historyLength)
      const task = await requireVisible(taskId, scope)
      if (length === 0) return []
      return (await indexedEvents(task.id, 'M', length)).map(historyMessage)
    },

    async list(query) {
      const checked = checkTaskListQuery(query)
      const page = await listTasks(checked)
      const artifacts = checked.includeArtifacts
        ? await Promise.all(page.tasks.map((task) => artifactsOf(task.id)))
        : []
      return {
        tasks: page.tasks.map((task, index) => toTaskRecord(task, artifacts[index])),
        nextPageToken: page.nextPageToken,
        total: page.total,
      }
    },

    async setPushConfig(taskId, scope, input) {
      const { owner } = checkTaskScope({ owner: scope?.owner }) as { owner: string }
      const id = checkTaskName('taskId', taskId)
      const stored = newStoredPushConfig(id, input, settings.secrets)
      const createdAt = Number(
        await run('parleyTaskSetPushConfig', [
          id,
          owner,
          stored.id,
          JSON.stringify(stored),
          stored.createdAt,
          settings.maxPushConfigsPerTask,
        ]),
      )
      if (createdAt === -1) throw new TaskNotFoundError(id)
      if (createdAt === -2) throw new TaskPushConfigLimitError(id, settings.maxPushConfigsPerTask)
      return toTaskPushConfig({ ...stored, createdAt })
    },

    async getPushConfig(taskId, scope, configId) {
      const task = await requireVisible(taskId, { owner: scope?.owner })
      const id = checkTaskName('configId', configId)
      return (await readPushConfigs(task.id))
        .filter((stored) => stored.id === id)
        .map(toTaskPushConfig)
        .at(0)
    },

    async listPushConfigs(taskId, scope) {
      const task = await requireVisible(taskId, { owner: scope?.owner })
      return (await readPushConfigs(task.id)).map(toTaskPushConfig)
    },

    async deletePushConfig(taskId, scope, configId) {
      const { owner } = checkTaskScope({ owner: scope?.owner }) as { owner: string }
      const id = checkTaskName('taskId', taskId)
      const deleted = await run('parleyTaskDeletePushConfig', [
        id,
        owner,
        checkTaskName('configId', configId),
      ])
      if (deleted === -1) throw new TaskNotFoundError(id)
      return deleted === 1
    },

    async pushTargets(taskId) {
      const configs = await readPushConfigs(checkTaskName('taskId', taskId))
      return configs.map((stored) => toTaskPushTarget(stored, settings.secrets))
    },

    async listStale(query) {
      const { updatedBefore, limit } = checkStaleQuery(query)
      const ids = await redis.zrangebyscore(`${base}W`, '-inf', `(${updatedBefore}`, 'LIMIT', 0, limit)
      // A task changed since its id was read may no longer be stale: the record decides.
      return (await readTasks(ids))
        .filter((task) => !isTerminalTaskState(task.state) && task.updatedAt < updatedBefore)
        .map(toTaskSummary)
    },

    async deleteExpired(before) {
      const cutoff = checkCutoff(before)
      let deleted = 0
      for (;;) {
        const batch = Number(await run('parleyTaskDeleteExpired', [cutoff, EXPIRED_TASKS_PER_SCRIPT]))
        deleted += batch
        if (batch < EXPIRED_TASKS_PER_SCRIPT) return deleted
      }
    },

    async close() {
      await appends.idle()
      await closeRedis(redis)
    },
  }
}
