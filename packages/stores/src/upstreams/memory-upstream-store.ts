import { UpstreamExistsError } from '../errors.js'
import type { UpstreamKind, UpstreamRecord, UpstreamStore } from './types.js'
import {
  checkUpstreamId,
  checkUpstreamKind,
  cloneUpstreamRecord,
  compareUpstreams,
  newUpstreamRecord,
  patchUpstreamRecord,
} from './upstream-records.js'

/** Upstreams in memory: one node only, gone on restart. */
export function createMemoryUpstreamStore(): UpstreamStore {
  const records = new Map<string, UpstreamRecord>()
  let version = 0
  const keyOf = (kind: UpstreamKind, id: string) => `${checkUpstreamKind(kind)}:${checkUpstreamId(id)}`

  return {
    async list(kind) {
      if (kind !== undefined) checkUpstreamKind(kind)
      return [...records.values()]
        .filter((record) => kind === undefined || record.kind === kind)
        .sort(compareUpstreams)
        .map(cloneUpstreamRecord)
    },

    async get(kind, id) {
      const record = records.get(keyOf(kind, id))
      return record === undefined ? undefined : cloneUpstreamRecord(record)
    },

    async create(input, now) {
      const record = newUpstreamRecord(input, now)
      const key = keyOf(record.kind, record.id)
      if (records.has(key)) throw new UpstreamExistsError(record.kind, record.id)
      records.set(key, record)
      version++
      return cloneUpstreamRecord(record)
    },

    async update(kind, id, patch, now) {
      const key = keyOf(kind, id)
      const record = records.get(key)
      if (record === undefined) return undefined
      const next = patchUpstreamRecord(record, patch, now)
      records.set(key, next)
      version++
      return cloneUpstreamRecord(next)
    },

    async delete(kind, id) {
      if (!records.delete(keyOf(kind, id))) return false
      version++
      return true
    },

    async version() {
      return version
    },

    async close() {},
  }
}
