import type { Redis, RedisOptions } from 'ioredis'
import { StoreError, TaskExistsError, TaskNotFoundError, TaskPushConfigLimitError } from '../errors.js'
import { closeRedis, connectRedis } from '../redis-connection.js'
import { defineTaskScripts } from './redis-task-scripts.js'
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
  applyTaskEvent,
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
} from './task-records.js'
import { resolveTaskStoreOptions } from './task-store-options.js'
import type { TaskScope, TaskStore, TaskStoreOptions } from './types.js'

export interface RedisTaskStoreOptions extends TaskStoreOptions {
  /** A `redis://` / `rediss://` URL or ioredis options (host, port, db, password, tls…). */
  redis: string | RedisOptions
  /** Start of every key, so several deployments can share one Redis; default `parley:`. */
  prefix?: string
  /** Told about connection errors (commands still fail on their own); ioredis retries the connection. */
  onError?: (error: Error) => void
}

export interface RedisTaskStore extends TaskStore {
  /** Closes the connection; data stays in Redis. */
  close(): Promise<void>
}

const DEFAULT_PREFIX = 'parley:'
/** Compare-and-set rounds of one append before it gives up (only other nodes' appends can make it retry). */
const MAX_APPEND_ATTEMPTS = 100
/** Ids read per round trip when a list walks an owner's tasks. */
const LIST_BATCH = 500
const EXPIRED_TASKS_PER_SCRIPT = 500

/**
 * Runs the calls made for one key one after another (in this process), so this node's appends to a task
 * never race each other; only other nodes' appends can make a compare-and-set retry.
 */
function createKeyedQueue() {
  const tails = new Map<string, Promise<void>>()
  return <T>(key: string, run: () => Promise<T>): Promise<T> => {
    const result = (tails.get(key) ?? Promise.resolve()).then(run)
    const tail = result.then(
      () => {},
      () => {},
    )
    tails.set(key, tail)
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key)
    })
    return result
  }
}

/**
 * Tasks in Redis, shared by every gateway node that uses the same prefix (keys under `<prefix>{t}:`, see
 * `redis-task-scripts.ts`). An append reads the task, computes the next record in JavaScript and writes it
 * with the event in one script that checks the sequence number is still the one read (else it reads
 * again): numbers are never shared or skipped, across nodes too. Durability is Redis's: configure AOF.
 */
export function createRedisTaskStore(options: RedisTaskStoreOptions): RedisTaskStore {
  const settings = resolveTaskStoreOptions(options, { requireSecretKey: true })
  const base = `${options.prefix ?? DEFAULT_PREFIX}{t}:`
  const redis: Redis = connectRedis(options.redis, options.onError)
  const run = defineTaskScripts(redis, base)
  const queue = createKeyedQueue()
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
      return task === undefined ? undefined : toTaskRecord(task)
    },

    async appendEvent(taskId, input) {
      const checked = checkTaskEvent(input, settings)
      const id = checkTaskName('taskId', taskId)
      return queue(id, async () => {
        for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
          const current = await readTask(id)
          if (current === undefined) throw new TaskNotFoundError(id)
          const { task, event } = applyTaskEvent(current, checked, settings)
          const outcome = await run('parleyTaskAppend', [
            id,
            current.lastSeq,
            JSON.stringify(task),
            JSON.stringify(event),
            event.inHistory ? 1 : 0,
            task.updatedAt,
            isTerminalTaskState(task.state) ? 1 : 0,
          ])
          if (outcome === -1) throw new TaskNotFoundError(id)
          if (outcome === 1) return { event: toTaskEvent(event), task: toTaskRecord(task) }
        }
        throw new StoreError(
          'unavailable',
          `The task changed under ${MAX_APPEND_ATTEMPTS} appends in a row on other nodes; try again.`,
        )
      })
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
      const texts = (await run('parleyTaskHistory', [task.id, length])) as string[]
      return texts.map((text) => historyMessage(JSON.parse(text) as StoredTaskEvent))
    },

    async list(query) {
      const checked = checkTaskListQuery(query)
      const page = await listTasks(checked)
      return {
        tasks: page.tasks.map((task) => toTaskRecord(task, checked.includeArtifacts)),
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
        .map((task) => toTaskRecord(task))
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

    close: () => closeRedis(redis),
  }
}
