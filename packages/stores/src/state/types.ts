/**
 * Contracts of the shared state store: versioned key-value namespaces agents read and write with
 * compare-and-set. Structural interfaces: a plain object with these methods works, no base class.
 *
 * Values are JSON: what `JSON.stringify` can write, read back as `JSON.parse` gives it. Each write of a
 * key (deletions included) takes the key's next version: 1, 2, 3, … A deleted key reads as absent, but
 * its versions go on from where they were when it is written again, so an old `expectedVersion` can never
 * match a new value. Times are epoch milliseconds; writes take `now` (default `Date.now()`).
 */

/** JSON as `JSON.parse` returns it. */
export type StateValue = null | boolean | number | string | StateValue[] | { [key: string]: StateValue }

export interface StateEntry {
  key: string
  value: StateValue
  version: number
  updatedAt: number
  /** Who wrote it: a principal id as the caller names it. */
  updatedBy: string
}

/** One version of a key, as kept by `history`; a deletion is a version with `deleted: true` and value null. */
export interface StateVersion {
  version: number
  value: StateValue
  deleted: boolean
  updatedAt: number
  updatedBy: string
}

export interface StateWriteOptions {
  /**
   * Compare-and-set: the write happens only if the key is at this version now, else it throws
   * `StateVersionConflictError` with the current version. `0` means "must not exist". Absent: write
   * whatever the current version.
   */
  expectedVersion?: number
  by: string
  now?: number
}

export interface StateListOptions {
  /** Keys after this one (exclusive), for the next page. */
  after?: string
  /** Default and maximum 1,000. */
  limit?: number
}

export interface StateStore {
  get(namespace: string, key: string): Promise<StateEntry | undefined>
  /** Writes the key's next version and returns it; atomic with its compare (on every node). */
  set(namespace: string, key: string, value: unknown, options: StateWriteOptions): Promise<StateEntry>
  /**
   * Deletes the key (a new version, kept in the history as a deletion). Resolves false when the key does
   * not exist and no `expectedVersion` was given; with one, a mismatch throws `StateVersionConflictError`.
   */
  delete(namespace: string, key: string, options: StateWriteOptions): Promise<boolean>
  /** Live keys of a namespace in byte order of their UTF-8 encoding (the same on every store). */
  list(namespace: string, options?: StateListOptions): Promise<StateEntry[]>
  /** The key's versions, newest first: at most `limit` (default and maximum: the store's `maxHistoryPerKey`). */
  history(namespace: string, key: string, options?: { limit?: number }): Promise<StateVersion[]>
}

export interface StateStoreOptions {
  /** Versions kept per key, the current one included. Default 100. */
  maxHistoryPerKey?: number
  /** Largest value, as bytes of its JSON text. Default 65,536 (64 KiB). */
  maxValueBytes?: number
}
