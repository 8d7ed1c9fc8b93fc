import { StateVersionConflictError } from '../errors.js'
import {
  checkHistoryLimit,
  checkListOptions,
  checkName,
  checkWrite,
  compareStateKeys,
  encodeStateValue,
  resolveStateStoreOptions,
  type StoredStateVersion,
  toStateEntry,
  toStateVersion,
} from './state-entries.js'
import type { StateStore, StateStoreOptions } from './types.js'

/**
 * Shared state in memory: one node only, gone on restart. Each key keeps its versions oldest first, the
 * last one current (a deletion is a version too). Values are kept as JSON text so every read returns a
 * fresh copy, exactly as the Postgres store does.
 */
export function createMemoryStateStore(options: StateStoreOptions = {}): StateStore {
  const settings = resolveStateStoreOptions(options)
  const namespaces = new Map<string, Map<string, StoredStateVersion[]>>()

  function current(namespace: string, key: string): StoredStateVersion | undefined {
    return namespaces.get(namespace)?.get(key)?.at(-1)
  }

  /** The compare of compare-and-set: throws when `expected` is not the key's live version (0 when absent). */
  function compare(
    namespace: string,
    key: string,
    expected: number | undefined,
  ): StoredStateVersion | undefined {
    const latest = current(namespace, key)
    const liveVersion = latest === undefined || latest.deleted ? 0 : latest.version
    if (expected !== undefined && expected !== liveVersion) {
      throw new StateVersionConflictError(namespace, key, expected, liveVersion)
    }
    return latest
  }

  function append(namespace: string, key: string, next: StoredStateVersion): void {
    const keys = namespaces.get(namespace) ?? new Map<string, StoredStateVersion[]>()
    namespaces.set(namespace, keys)
    const versions = keys.get(key) ?? []
    versions.push(next)
    if (versions.length > settings.maxHistoryPerKey)
      versions.splice(0, versions.length - settings.maxHistoryPerKey)
    keys.set(key, versions)
  }

  return {
    async get(namespace, key) {
      const latest = current(checkName('namespace', namespace), checkName('key', key))
      return latest === undefined || latest.deleted ? undefined : toStateEntry(key, latest)
    },

    async set(namespace, key, value, options) {
      const write = checkWrite(namespace, key, options)
      const text = encodeStateValue(value, settings.maxValueBytes)
      // No await between the compare and the write: nothing else runs in between.
      const latest = compare(write.namespace, write.key, write.expected)
      const next: StoredStateVersion = {
        version: (latest?.version ?? 0) + 1,
        value: text,
        deleted: false,
        updatedAt: write.now,
        updatedBy: write.by,
      }
      append(write.namespace, write.key, next)
      return toStateEntry(write.key, next)
    },

    async delete(namespace, key, options) {
      const write = checkWrite(namespace, key, options)
      const latest = compare(write.namespace, write.key, write.expected)
      if (latest === undefined || latest.deleted) return false
      append(write.namespace, write.key, {
        version: latest.version + 1,
        value: null,
        deleted: true,
        updatedAt: write.now,
        updatedBy: write.by,
      })
      return true
    },

    async list(namespace, listOptions) {
      const keys = namespaces.get(checkName('namespace', namespace))
      const { after, limit } = checkListOptions(listOptions)
      if (keys === undefined) return []
      const live = [...keys.entries()]
        .filter(([key, versions]) => {
          const latest = versions.at(-1)
          return (
            latest !== undefined &&
            !latest.deleted &&
            (after === undefined || compareStateKeys(key, after) > 0)
          )
        })
        .sort(([a], [b]) => compareStateKeys(a, b))
        .slice(0, limit)
      return live.map(([key, versions]) => toStateEntry(key, versions.at(-1) as StoredStateVersion))
    },

    async history(namespace, key, historyOptions) {
      const versions = namespaces.get(checkName('namespace', namespace))?.get(checkName('key', key)) ?? []
      const limit = checkHistoryLimit(historyOptions?.limit, settings.maxHistoryPerKey)
      return versions.slice(-limit).reverse().map(toStateVersion)
    },
  }
}
