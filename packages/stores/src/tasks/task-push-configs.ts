import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { InvalidTaskError, StoreError } from '../errors.js'
import { checkTaskName } from './task-records.js'
import type { TaskPushConfig, TaskPushConfigInput, TaskPushTarget } from './types.js'

/**
 * Push configs of tasks. A webhook's token and credentials are secrets that the sender needs back in
 * plaintext, so they cannot be hashed: they are encrypted with AES-256-GCM under a key derived (HKDF) from
 * the store's `secretKey`, with the task id, config id and field as additional data, so a ciphertext
 * copied to another row or field does not decrypt. Callers only ever see whether they are set.
 */

export const DEFAULT_MAX_PUSH_CONFIGS_PER_TASK = 10
export const MAX_PUSH_URL_LENGTH = 2_048
export const MAX_PUSH_SECRET_LENGTH = 4_096
const MIN_SECRET_KEY_BYTES = 32
const CIPHER_VERSION = 'v1'

/** A push config as every store keeps it: secrets as ciphertext, null when absent. */
export interface StoredPushConfig {
  id: string
  taskId: string
  url: string
  token: string | null
  authScheme: string | null
  authCredentials: string | null
  protocolVersion: string | null
  createdAt: number
}

export interface PushSecretBox {
  seal(taskId: string, configId: string, field: string, plaintext: string): string
  open(taskId: string, configId: string, field: string, sealed: string): string
}

export function createPushSecretBox(secretKey: Uint8Array): PushSecretBox {
  if (!(secretKey instanceof Uint8Array) || secretKey.byteLength < MIN_SECRET_KEY_BYTES) {
    throw new RangeError(`secretKey must be at least ${MIN_SECRET_KEY_BYTES} bytes`)
  }
  const key = Buffer.from(hkdfSync('sha256', secretKey, 'parley', 'parley task push secrets v1', 32))
  const additionalData = (taskId: string, configId: string, field: string) =>
    Buffer.from(JSON.stringify([taskId, configId, field]), 'utf8')
  return {
    seal(taskId, configId, field, plaintext) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(additionalData(taskId, configId, field))
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()])
      return `${CIPHER_VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`
    },
    open(taskId, configId, field, sealed) {
      const [version, iv, body] = sealed.split('.')
      if (version !== CIPHER_VERSION || iv === undefined || body === undefined) {
        throw new Error('A push secret is not in a known form.')
      }
      const bytes = Buffer.from(body, 'base64url')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
      decipher.setAAD(additionalData(taskId, configId, field))
      decipher.setAuthTag(bytes.subarray(bytes.length - 16))
      return Buffer.concat([
        decipher.update(bytes.subarray(0, bytes.length - 16)),
        decipher.final(),
      ]).toString('utf8')
    },
  }
}

export function newPushConfigId(): string {
  return `pnc_${randomBytes(12).toString('base64url')}`
}

function checkSecret(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PUSH_SECRET_LENGTH) {
    throw new InvalidTaskError(
      field,
      `${field} must be a string of 1 to ${MAX_PUSH_SECRET_LENGTH} characters.`,
    )
  }
  return value
}

function checkUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_PUSH_URL_LENGTH || !URL.canParse(value)) {
    throw new InvalidTaskError(
      'url',
      `url must be an absolute URL of at most ${MAX_PUSH_URL_LENGTH} characters.`,
    )
  }
  return value
}

/**
 * Checks a push config as `setPushConfig` does (throws `InvalidTaskError`), without storing it: for a config
 * that must wait for its task (A2A's SendMessage names it before the task exists).
 */
export function checkPushConfigInput(input: TaskPushConfigInput): void {
  newStoredPushConfig('check', input, undefined)
}

/** Checks a push config and seals its secrets for the task (only checks it without a box). */
export function newStoredPushConfig(
  taskId: string,
  input: TaskPushConfigInput,
  box: PushSecretBox | undefined,
): StoredPushConfig {
  if (input === null || typeof input !== 'object') {
    throw new InvalidTaskError('pushConfig', 'The push config must be an object with a url.')
  }
  const id = input.id === undefined ? newPushConfigId() : checkTaskName('pushConfig.id', input.id)
  const url = checkUrl(input.url)
  const token = input.token === undefined ? null : checkSecret('token', input.token)
  const authentication = input.authentication
  if (authentication !== undefined && (authentication === null || typeof authentication !== 'object')) {
    throw new InvalidTaskError('authentication', 'authentication must be { scheme, credentials? }.')
  }
  const authScheme =
    authentication === undefined ? null : checkTaskName('authentication.scheme', authentication.scheme)
  const credentials =
    authentication?.credentials === undefined
      ? null
      : checkSecret('authentication.credentials', authentication.credentials)
  const now = input.now ?? Date.now()
  if (!Number.isSafeInteger(now)) throw new InvalidTaskError('now', 'now must be an integer of milliseconds.')
  return {
    id,
    taskId,
    url,
    token: token === null || box === undefined ? token : box.seal(taskId, id, 'token', token),
    authScheme,
    authCredentials:
      credentials === null || box === undefined
        ? credentials
        : box.seal(taskId, id, 'credentials', credentials),
    protocolVersion:
      input.protocolVersion === undefined ? null : checkTaskName('protocolVersion', input.protocolVersion),
    createdAt: now,
  }
}

export function toTaskPushConfig(stored: StoredPushConfig): TaskPushConfig {
  return {
    id: stored.id,
    taskId: stored.taskId,
    url: stored.url,
    hasToken: stored.token !== null,
    authentication:
      stored.authScheme === null
        ? null
        : { scheme: stored.authScheme, hasCredentials: stored.authCredentials !== null },
    protocolVersion: stored.protocolVersion,
    createdAt: stored.createdAt,
  }
}

export function toTaskPushTarget(stored: StoredPushConfig, box: PushSecretBox): TaskPushTarget {
  const open = (field: string, sealed: string | null) => {
    if (sealed === null) return null
    try {
      return box.open(stored.taskId, stored.id, field, sealed)
    } catch (error) {
      throw new StoreError(
        'internal',
        `The ${field} of push config ${stored.id} cannot be decrypted: was the store's secretKey changed?`,
        { cause: error },
      )
    }
  }
  return {
    id: stored.id,
    taskId: stored.taskId,
    url: stored.url,
    token: open('token', stored.token),
    authentication:
      stored.authScheme === null
        ? null
        : { scheme: stored.authScheme, credentials: open('credentials', stored.authCredentials) },
    protocolVersion: stored.protocolVersion,
  }
}

/** Push configs oldest first, then by id. */
export function comparePushConfigs(a: StoredPushConfig, b: StoredPushConfig): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
