import { and, asc, count, desc, eq, gt, inArray, lt, or, type SQL, sql } from 'drizzle-orm'
import type { ParleyDatabase, ParleyExecutor } from '../database.js'
import { createGroupCommit } from '../delivery/group-commit.js'
import { TaskExistsError, TaskNotFoundError, TaskPushConfigLimitError } from '../errors.js'
import { type A2aTaskRow, a2aTaskEvents, a2aTaskPushConfigs, a2aTasks } from '../schema.js'
import {
  type AppendOutcome,
  type AppendRequest,
  applyAppendBatch,
  settleAppend,
} from './task-append-batch.js'
import { foldArtifacts } from './task-artifacts.js'
import { type CheckedTaskListQuery, checkTaskListQuery, encodeTaskPageToken } from './task-list.js'
import {
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
  newStoredTask,
  type StoredTask,
  type StoredTaskEvent,
  taskInScope,
  toTaskEvent,
  toTaskRecord,
  toTaskSummary,
} from './task-records.js'
import { resolveTaskStoreOptions } from './task-store-options.js'
import {
  type TaskJson,
  type TaskScope,
  type TaskState,
  type TaskStore,
  type TaskStoreOptions,
  TERMINAL_TASK_STATES,
} from './types.js'

/** Appends per transaction. */
const MAX_APPEND_BATCH = 200
/** Tasks deleted per retention transaction, so one sweep never holds many row locks at once. */
const EXPIRED_TASKS_PER_BATCH = 500

const idInByteOrder = sql`${a2aTasks.id} collate "C"`
const terminalStates = TERMINAL_TASK_STATES.map((state) => `'${state}'`).join(', ')
/** Literal, so the planner matches them to the partial indexes on terminal and unfinished tasks. */
const isTerminal = sql.raw(`"a2a_tasks"."state" in (${terminalStates})`)
const isUnfinished = sql.raw(`"a2a_tasks"."state" not in (${terminalStates})`)

function toStoredTask(row: A2aTaskRow): StoredTask {
  return { ...row, state: row.state as TaskState }
}

function toStoredEvent(row: typeof a2aTaskEvents.$inferSelect): StoredTaskEvent {
  return {
    ...row,
    kind: row.kind as StoredTaskEvent['kind'],
    state: row.state as TaskState | null,
  }
}

function listConditions(query: CheckedTaskListQuery): SQL | undefined {
  return and(
    eq(a2aTasks.owner, query.owner),
    query.agentId === undefined ? undefined : eq(a2aTasks.agentId, query.agentId),
    query.contextId === undefined ? undefined : eq(a2aTasks.contextId, query.contextId),
    query.state === undefined ? undefined : eq(a2aTasks.state, query.state),
    query.updatedAfter === undefined ? undefined : gt(a2aTasks.updatedAt, query.updatedAfter),
  )
}

/**
 * Tasks in `a2a_tasks` (identity, state, status, metadata), `a2a_task_events` (the logs; artifacts are
 * folded from them on a read) and `a2a_task_push_configs`. Appends are group-committed: a transaction locks
 * its tasks' rows (`SELECT … FOR UPDATE`), applies the events and writes them with the tasks: the row locks
 * order appends on every node, so sequence numbers are never shared or skipped. Setting a push config
 * locks the row too, so the per-task cap holds across nodes.
 */
export function createPostgresTaskStore(database: ParleyDatabase, options: TaskStoreOptions = {}): TaskStore {
  const settings = resolveTaskStoreOptions(options, { requireSecretKey: true })
  const { db } = database

  async function readTask(
    executor: ParleyExecutor,
    taskId: string,
    lock = false,
  ): Promise<StoredTask | undefined> {
    const query = executor.select().from(a2aTasks).where(eq(a2aTasks.id, taskId))
    const [row] = lock ? await query.for('update') : await query
    return row === undefined ? undefined : toStoredTask(row)
  }

  async function visible(taskId: string, scope: TaskScope): Promise<StoredTask | undefined> {
    const checkedScope = checkTaskScope(scope)
    const task = await readTask(db, checkTaskName('taskId', taskId))
    return task !== undefined && taskInScope(task, checkedScope) ? task : undefined
  }

  async function requireVisible(taskId: string, scope: TaskScope): Promise<StoredTask> {
    const task = await visible(taskId, scope)
    if (task === undefined) throw new TaskNotFoundError(taskId)
    return task
  }

  /** The artifacts of each task, folded from its artifact events. */
  async function artifactsOf(taskIds: string[]): Promise<Map<string, TaskJson[]>> {
    if (taskIds.length === 0) return new Map()
    const rows = await db
      .select({ taskId: a2aTaskEvents.taskId, payload: a2aTaskEvents.payload })
      .from(a2aTaskEvents)
      .where(and(inArray(a2aTaskEvents.taskId, taskIds), eq(a2aTaskEvents.kind, 'artifact')))
      .orderBy(a2aTaskEvents.taskId, asc(a2aTaskEvents.seq))
    const payloads = new Map<string, string[]>()
    for (const row of rows) {
      const texts = payloads.get(row.taskId)
      if (texts === undefined) payloads.set(row.taskId, [row.payload])
      else texts.push(row.payload)
    }
    return new Map([...payloads].map(([taskId, texts]) => [taskId, foldArtifacts(texts)]))
  }

  /**
   * One transaction for a batch of appends: locks their tasks' rows (in id order, the same on every node,
   * so two nodes' batches cannot deadlock), applies the events in call order, then writes the events in
   * one INSERT and each changed task once.
   */
  async function commitAppends(requests: AppendRequest[]): Promise<AppendOutcome[]> {
    return db.transaction(async (tx) => {
      const ids = [...new Set(requests.map((request) => request.taskId))]
      const rows = await tx
        .select()
        .from(a2aTasks)
        .where(inArray(a2aTasks.id, ids))
        .orderBy(idInByteOrder)
        .for('update')
      const current = new Map<string, StoredTask | undefined>(rows.map((row) => [row.id, toStoredTask(row)]))
      const { outcomes, changed, events } = applyAppendBatch(current, requests, settings)
      if (events.length > 0) await tx.insert(a2aTaskEvents).values(events)
      for (const task of changed.values()) {
        await tx
          .update(a2aTasks)
          .set({
            state: task.state,
            status: task.status,
            artifactsBytes: task.artifactsBytes,
            metadata: task.metadata,
            lastSeq: task.lastSeq,
            updatedAt: task.updatedAt,
          })
          .where(eq(a2aTasks.id, task.id))
      }
      return outcomes
    })
  }
  // Concurrent appends (a stream's chunks, several tasks) share transactions.
  const appends = createGroupCommit(commitAppends, MAX_APPEND_BATCH)

  const isConfig = (taskId: string, configId: string) =>
    and(eq(a2aTaskPushConfigs.taskId, taskId), eq(a2aTaskPushConfigs.id, configId))

  async function readPushConfigs(taskId: string): Promise<StoredPushConfig[]> {
    return db
      .select()
      .from(a2aTaskPushConfigs)
      .where(eq(a2aTaskPushConfigs.taskId, taskId))
      .orderBy(asc(a2aTaskPushConfigs.createdAt), sql`${a2aTaskPushConfigs.id} collate "C"`)
  }

  return {
    async create(input) {
      const { task, event } = newStoredTask(input, settings)
      return db.transaction(async (tx) => {
        const inserted = await tx
          .insert(a2aTasks)
          .values(task)
          .onConflictDoNothing({ target: a2aTasks.id })
          .returning({ id: a2aTasks.id })
        if (inserted.length === 0) throw new TaskExistsError(task.id)
        if (event !== undefined) await tx.insert(a2aTaskEvents).values(event)
        return toTaskRecord(task)
      })
    },

    async get(taskId, scope) {
      const task = await visible(taskId, scope)
      if (task === undefined) return undefined
      return toTaskRecord(task, (await artifactsOf([task.id])).get(task.id))
    },

    async appendEvent(taskId, input) {
      const event = checkTaskEvent(input, settings)
      const [outcome] = await appends.submit([{ taskId: checkTaskName('taskId', taskId), event }])
      return settleAppend(outcome)
    },

    async events(taskId, scope, query) {
      const { afterSeq, limit } = checkEventsQuery(query)
      const task = await requireVisible(taskId, scope)
      const rows = await db
        .select()
        .from(a2aTaskEvents)
        .where(and(eq(a2aTaskEvents.taskId, task.id), gt(a2aTaskEvents.seq, afterSeq)))
        .orderBy(asc(a2aTaskEvents.seq))
        .limit(limit)
      return rows.map((row) => toTaskEvent(toStoredEvent(row)))
    },

    async history(taskId, scope, historyLength) {
      const length = checkHistoryLength(historyLength)
      const task = await requireVisible(taskId, scope)
      if (length === 0) return []
      const rows = await db
        .select({ kind: a2aTaskEvents.kind, payload: a2aTaskEvents.payload })
        .from(a2aTaskEvents)
        .where(and(eq(a2aTaskEvents.taskId, task.id), eq(a2aTaskEvents.inHistory, true)))
        .orderBy(desc(a2aTaskEvents.seq))
        .limit(length)
      return rows
        .reverse()
        .map((row) => historyMessage({ kind: row.kind as StoredTaskEvent['kind'], payload: row.payload }))
    },

    async list(query) {
      const checked = checkTaskListQuery(query)
      const conditions = listConditions(checked)
      const after = checked.after
      const rows = await db
        .select()
        .from(a2aTasks)
        .where(
          and(
            conditions,
            after === undefined
              ? undefined
              : or(
                  lt(a2aTasks.updatedAt, after.updatedAt),
                  and(
                    eq(a2aTasks.updatedAt, after.updatedAt),
                    sql`${idInByteOrder} < ${after.id} collate "C"`,
                  ),
                ),
          ),
        )
        // Matches a2a_tasks_owner_updated_idx, so the page is read in index order.
        .orderBy(sql`${a2aTasks.updatedAt} desc nulls last`, sql`${idInByteOrder} desc`)
        .limit(checked.pageSize + 1)
      const [{ total } = { total: 0 }] = await db.select({ total: count() }).from(a2aTasks).where(conditions)
      const tasks = rows.slice(0, checked.pageSize).map(toStoredTask)
      const last = tasks.at(-1)
      const artifacts = checked.includeArtifacts
        ? await artifactsOf(tasks.map((task) => task.id))
        : new Map<string, TaskJson[]>()
      return {
        tasks: tasks.map((task) => toTaskRecord(task, artifacts.get(task.id))),
        nextPageToken: rows.length > tasks.length && last !== undefined ? encodeTaskPageToken(last) : null,
        total,
      }
    },

    async setPushConfig(taskId, scope, input) {
      const owner = checkTaskScope({ owner: scope?.owner })
      const id = checkTaskName('taskId', taskId)
      return db.transaction(async (tx) => {
        const task = await readTask(tx, id, true)
        if (task === undefined || !taskInScope(task, owner)) throw new TaskNotFoundError(id)
        const stored = newStoredPushConfig(task.id, input, settings.secrets)
        const [{ configs } = { configs: 0 }] = await tx
          .select({ configs: count() })
          .from(a2aTaskPushConfigs)
          .where(and(eq(a2aTaskPushConfigs.taskId, id), sql`${a2aTaskPushConfigs.id} <> ${stored.id}`))
        if (configs >= settings.maxPushConfigsPerTask) {
          throw new TaskPushConfigLimitError(id, settings.maxPushConfigsPerTask)
        }
        // A replaced config keeps its createdAt, so its place in the list.
        const { createdAt: _kept, taskId: _task, id: _id, ...changes } = stored
        const [row] = await tx
          .insert(a2aTaskPushConfigs)
          .values(stored)
          .onConflictDoUpdate({ target: [a2aTaskPushConfigs.taskId, a2aTaskPushConfigs.id], set: changes })
          .returning()
        return toTaskPushConfig(row ?? stored)
      })
    },

    async getPushConfig(taskId, scope, configId) {
      const task = await requireVisible(taskId, { owner: scope?.owner })
      const [row] = await db
        .select()
        .from(a2aTaskPushConfigs)
        .where(isConfig(task.id, checkTaskName('configId', configId)))
      return row === undefined ? undefined : toTaskPushConfig(row)
    },

    async listPushConfigs(taskId, scope) {
      const task = await requireVisible(taskId, { owner: scope?.owner })
      return (await readPushConfigs(task.id)).map(toTaskPushConfig)
    },

    async deletePushConfig(taskId, scope, configId) {
      const task = await requireVisible(taskId, { owner: scope?.owner })
      const deleted = await db
        .delete(a2aTaskPushConfigs)
        .where(isConfig(task.id, checkTaskName('configId', configId)))
        .returning({ id: a2aTaskPushConfigs.id })
      return deleted.length > 0
    },

    async pushTargets(taskId) {
      const configs = await readPushConfigs(checkTaskName('taskId', taskId))
      return configs.map((stored) => toTaskPushTarget(stored, settings.secrets))
    },

    async listStale(query) {
      const { updatedBefore, limit } = checkStaleQuery(query)
      const rows = await db
        .select()
        .from(a2aTasks)
        .where(and(isUnfinished, lt(a2aTasks.updatedAt, updatedBefore)))
        .orderBy(asc(a2aTasks.updatedAt), sql`${idInByteOrder} asc`)
        .limit(limit)
      return rows.map((row) => toTaskSummary(toStoredTask(row)))
    },

    close: () => appends.close(),

    async deleteExpired(before) {
      const cutoff = checkCutoff(before)
      let deleted = 0
      for (;;) {
        const batch = await db.transaction(async (tx) => {
          // Terminal tasks take no more events; the row locks keep out a concurrent push config write.
          const rows = await tx
            .select({ id: a2aTasks.id })
            .from(a2aTasks)
            .where(and(isTerminal, lt(a2aTasks.updatedAt, cutoff)))
            .limit(EXPIRED_TASKS_PER_BATCH)
            .for('update', { skipLocked: true })
          const ids = rows.map((row) => row.id)
          if (ids.length === 0) return 0
          await tx.delete(a2aTaskEvents).where(inArray(a2aTaskEvents.taskId, ids))
          await tx.delete(a2aTaskPushConfigs).where(inArray(a2aTaskPushConfigs.taskId, ids))
          await tx.delete(a2aTasks).where(inArray(a2aTasks.id, ids))
          return ids.length
        })
        deleted += batch
        if (batch < EXPIRED_TASKS_PER_BATCH) return deleted
      }
    },
  }
}
