import { InvalidStateEntryError, StateValueTooLargeError } from '../errors.js'
import type {
  StateEntry,
  StateListOptions,
  StateStoreOptions,
  StateValue,
  StateVersion,
  StateWriteOptions,
} from './types.js'

export const DEFAULT_MAX_STATE_HISTORY_PER_KEY = 100
export const DEFAULT_MAX_STATE_VALUE_BYTES = 65_536
export const MAX_STATE_NAME_LENGTH = 512
export const MAX_STATE_LIST_PAGE = 1_000

export interface ResolvedStateStoreOptions {
  maxHistoryPerKey: number
  maxValueBytes: number
}

export function resolveStateStoreOptions(options: StateStoreOptions = {}): ResolvedStateStoreOptions {
  const maxHistoryPerKey = options.maxHistoryPerKey ?? DEFAULT_MAX_STATE_HISTORY_PER_KEY
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_STATE_VALUE_BYTES
  if (!Number.isSafeInteger(maxHistoryPerKey) || maxHistoryPerKey < 1) {
    throw new RangeError('maxHistoryPerKey must be a positive integer')
  }
  if (!Number.isSafeInteger(maxValueBytes) || maxValueBytes < 1) {
    throw new RangeError('maxValueBytes must be a positive integer')
  }
  return { maxHistoryPerKey, maxValueBytes }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Namespaces, keys and authors: non-empty text that Postgres can store and UTF-8 can encode. */
export function checkName(field: 'namespace' | 'key' | 'by' | 'after', value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidStateEntryError(field, `${field} must be a non-empty string.`)
  }
  if (value.length > MAX_STATE_NAME_LENGTH) {
    throw new InvalidStateEntryError(field, `${field} is longer than ${MAX_STATE_NAME_LENGTH} characters.`)
  }
  if (value.includes('\u0000') || LONE_SURROGATE.test(value)) {
    throw new InvalidStateEntryError(field, `${field} must not contain NUL characters or lone surrogates.`)
  }
  return value
}

/** `undefined` (write whatever the version), or a non-negative integer (0: must not exist). */
export function checkExpectedVersion(expectedVersion: unknown): number | undefined {
  if (expectedVersion === undefined) return undefined
  if (!Number.isSafeInteger(expectedVersion) || (expectedVersion as number) < 0) {
    throw new InvalidStateEntryError('expectedVersion', 'expectedVersion must be a non-negative integer.')
  }
  return expectedVersion as number
}

/** The checked arguments of a `set` or `delete`, with `now` defaulting to the clock. */
export function checkWrite(namespace: string, key: string, options: StateWriteOptions) {
  return {
    namespace: checkName('namespace', namespace),
    key: checkName('key', key),
    by: checkName('by', options?.by),
    expected: checkExpectedVersion(options?.expectedVersion),
    now: options?.now ?? Date.now(),
  }
}

/** The value's JSON text, as stored; refuses what JSON cannot hold and what is over the size limit. */
export function encodeStateValue(value: unknown, maxValueBytes: number): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    // Cycles and bigints.
    throw new InvalidStateEntryError(
      'value',
      `The value cannot be written as JSON: ${(error as Error).message}`,
    )
  }
  if (text === undefined) {
    throw new InvalidStateEntryError(
      'value',
      'The value cannot be written as JSON (undefined, a function or a symbol).',
    )
  }
  const size = Buffer.byteLength(text, 'utf8')
  if (size > maxValueBytes) throw new StateValueTooLargeError(size, maxValueBytes)
  return text
}

export function decodeStateValue(text: string | null): StateValue {
  return text === null ? null : (JSON.parse(text) as StateValue)
}

export function checkListOptions(options: StateListOptions = {}): {
  after: string | undefined
  limit: number
} {
  const limit = options.limit ?? MAX_STATE_LIST_PAGE
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_STATE_LIST_PAGE) {
    throw new InvalidStateEntryError('limit', `limit must be an integer from 1 to ${MAX_STATE_LIST_PAGE}.`)
  }
  return { after: options.after === undefined ? undefined : checkName('after', options.after), limit }
}

export function checkHistoryLimit(limit: number | undefined, maxHistoryPerKey: number): number {
  if (limit === undefined) return maxHistoryPerKey
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidStateEntryError('limit', 'limit must be a positive integer.')
  }
  return Math.min(limit, maxHistoryPerKey)
}

/**
 * Byte order of the UTF-8 encodings, which is code point order: what Postgres gives with `collate "C"`.
 * (Plain `<` compares UTF-16 code units and puts U+FF00… after U+1F600, unlike Postgres.)
 */
export function compareStateKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

export interface StoredStateVersion {
  version: number
  /** JSON text; null for a deletion. */
  value: string | null
  deleted: boolean
  updatedAt: number
  updatedBy: string
}

export function toStateEntry(key: string, stored: StoredStateVersion): StateEntry {
  return {
    key,
    value: decodeStateValue(stored.value),
    version: stored.version,
    updatedAt: stored.updatedAt,
    updatedBy: stored.updatedBy,
  }
}

export function toStateVersion(stored: StoredStateVersion): StateVersion {
  return {
    version: stored.version,
    value: decodeStateValue(stored.value),
    deleted: stored.deleted,
    updatedAt: stored.updatedAt,
    updatedBy: stored.updatedBy,
  }
}
