import { and, desc, eq, gt, lte, not, sql } from 'drizzle-orm'
import type { ParleyDatabase, ParleyTransaction } from '../database.js'
import { StateVersionConflictError } from '../errors.js'
import { type StateEntryRow, stateEntries, stateHistory } from '../schema.js'
import {
  checkHistoryLimit,
  checkListOptions,
  checkName,
  checkWrite,
  encodeStateValue,
  resolveStateStoreOptions,
  toStateEntry,
  toStateVersion,
} from './state-entries.js'
import type { StateStore, StateStoreOptions } from './types.js'

const keyInByteOrder = sql`${stateEntries.key} collate "C"`

/**
 * Shared state in `state_entries` (the current version of each key, deletions as tombstones) and
 * `state_history` (every version, trimmed per key). Compare-and-set is one statement whose WHERE holds
 * the compare: an UPDATE … WHERE version = expected, or an INSERT … ON CONFLICT DO UPDATE … WHERE deleted.
 * Postgres re-checks that WHERE on the newest row after waiting for a concurrent writer's lock, so of
 * writers expecting the same version exactly one succeeds, on any number of nodes.
 */
export function createPostgresStateStore(
  database: ParleyDatabase,
  options: StateStoreOptions = {},
): StateStore {
  const settings = resolveStateStoreOptions(options)
  const { db } = database

  const isKey = (namespace: string, key: string) =>
    and(eq(stateEntries.namespace, namespace), eq(stateEntries.key, key))

  async function liveVersion(tx: ParleyTransaction, namespace: string, key: string): Promise<number> {
    const [row] = await tx
      .select({ version: stateEntries.version, deleted: stateEntries.deleted })
      .from(stateEntries)
      .where(isKey(namespace, key))
    return row === undefined || row.deleted ? 0 : row.version
  }

  /** Records the written version in the history and drops the versions beyond the cap, in the write's transaction. */
  async function keepHistory(tx: ParleyTransaction, row: StateEntryRow): Promise<void> {
    await tx.insert(stateHistory).values(row)
    // Versions of a key are consecutive, so the cap is a version bound.
    await tx
      .delete(stateHistory)
      .where(
        and(
          eq(stateHistory.namespace, row.namespace),
          eq(stateHistory.key, row.key),
          lte(stateHistory.version, row.version - settings.maxHistoryPerKey),
        ),
      )
  }

  return {
    async get(namespace, key) {
      const [row] = await db
        .select()
        .from(stateEntries)
        .where(
          and(isKey(checkName('namespace', namespace), checkName('key', key)), not(stateEntries.deleted)),
        )
      return row === undefined ? undefined : toStateEntry(row.key, row)
    },

    async set(namespace, key, value, options) {
      const write = checkWrite(namespace, key, options)
      const text = encodeStateValue(value, settings.maxValueBytes)
      const next = {
        value: text,
        deleted: false,
        updatedAt: write.now,
        updatedBy: write.by,
      }
      return db.transaction(async (tx) => {
        let rows: StateEntryRow[]
        if (write.expected === undefined || write.expected === 0) {
          rows = await tx
            .insert(stateEntries)
            .values({ namespace: write.namespace, key: write.key, version: 1, ...next })
            .onConflictDoUpdate({
              target: [stateEntries.namespace, stateEntries.key],
              set: { ...next, version: sql`${stateEntries.version} + 1` },
              // "Must not exist": only a deleted key may be written again.
              ...(write.expected === 0 ? { setWhere: sql`${stateEntries.deleted}` } : {}),
            })
            .returning()
        } else {
          rows = await tx
            .update(stateEntries)
            .set({ ...next, version: sql`${stateEntries.version} + 1` })
            .where(
              and(
                isKey(write.namespace, write.key),
                eq(stateEntries.version, write.expected),
                not(stateEntries.deleted),
              ),
            )
            .returning()
        }
        const [row] = rows
        if (row === undefined) {
          throw new StateVersionConflictError(
            write.namespace,
            write.key,
            write.expected ?? 0,
            await liveVersion(tx, write.namespace, write.key),
          )
        }
        await keepHistory(tx, row)
        return toStateEntry(row.key, row)
      })
    },

    async delete(namespace, key, options) {
      const write = checkWrite(namespace, key, options)
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(stateEntries)
          .set({
            value: null,
            deleted: true,
            version: sql`${stateEntries.version} + 1`,
            updatedAt: write.now,
            updatedBy: write.by,
          })
          .where(
            and(
              isKey(write.namespace, write.key),
              not(stateEntries.deleted),
              // Expecting 0 ("must not exist") deletes nothing: it only checks.
              write.expected === undefined ? undefined : eq(stateEntries.version, write.expected),
            ),
          )
          .returning()
        if (row === undefined) {
          if (write.expected === undefined) return false
          const current = await liveVersion(tx, write.namespace, write.key)
          if (current === write.expected) return false
          throw new StateVersionConflictError(write.namespace, write.key, write.expected, current)
        }
        await keepHistory(tx, row)
        return true
      })
    },

    async list(namespace, listOptions) {
      const { after, limit } = checkListOptions(listOptions)
      const rows = await db
        .select()
        .from(stateEntries)
        .where(
          and(
            eq(stateEntries.namespace, checkName('namespace', namespace)),
            not(stateEntries.deleted),
            after === undefined ? undefined : gt(keyInByteOrder, after),
          ),
        )
        .orderBy(keyInByteOrder)
        .limit(limit)
      return rows.map((row) => toStateEntry(row.key, row))
    },

    async history(namespace, key, historyOptions) {
      const limit = checkHistoryLimit(historyOptions?.limit, settings.maxHistoryPerKey)
      const rows = await db
        .select()
        .from(stateHistory)
        .where(
          and(
            eq(stateHistory.namespace, checkName('namespace', namespace)),
            eq(stateHistory.key, checkName('key', key)),
          ),
        )
        .orderBy(desc(stateHistory.version))
        .limit(limit)
      return rows.map(toStateVersion)
    },
  }
}
