import { InvalidUpstreamError } from '../errors.js'
import {
  type CreateUpstreamInput,
  UPSTREAM_CREDENTIALS_KINDS,
  UPSTREAM_KINDS,
  type UpdateUpstreamInput,
  type UpstreamKind,
  type UpstreamRecord,
} from './types.js'

export const MAX_UPSTREAM_ID_LENGTH = 128
export const MAX_UPSTREAM_URLS = 16
export const MAX_UPSTREAM_URL_LENGTH = 2_048
/** Sealed credentials: an 8 KiB secret grows by a third in base64, plus the nonce and tag. */
export const MAX_UPSTREAM_CREDENTIALS_LENGTH = 16_384
export const MAX_UPSTREAM_SETTINGS_BYTES = 16_384

const ID_PATTERN = /^[A-Za-z0-9_\-.:@]+$/

export function checkUpstreamKind(kind: unknown): UpstreamKind {
  if (!UPSTREAM_KINDS.includes(kind as UpstreamKind)) {
    throw new InvalidUpstreamError('kind', `kind must be one of ${UPSTREAM_KINDS.join(', ')}.`)
  }
  return kind as UpstreamKind
}

export function checkUpstreamId(id: unknown): string {
  if (
    typeof id !== 'string' ||
    id.length === 0 ||
    id.length > MAX_UPSTREAM_ID_LENGTH ||
    !ID_PATTERN.test(id)
  ) {
    throw new InvalidUpstreamError(
      'id',
      `id must be 1 to ${MAX_UPSTREAM_ID_LENGTH} letters, digits or _ - . : @.`,
    )
  }
  return id
}

function checkUrls(urls: unknown): string[] {
  if (!Array.isArray(urls) || urls.length === 0 || urls.length > MAX_UPSTREAM_URLS) {
    throw new InvalidUpstreamError('urls', `urls must hold 1 to ${MAX_UPSTREAM_URLS} URLs.`)
  }
  const seen = new Set<string>()
  for (const url of urls) {
    if (
      typeof url !== 'string' ||
      url.length > MAX_UPSTREAM_URL_LENGTH ||
      !/^https?:\/\/[^\s]+$/i.test(url)
    ) {
      throw new InvalidUpstreamError(
        'urls',
        `each URL must be an http or https URL of at most ${MAX_UPSTREAM_URL_LENGTH} characters.`,
      )
    }
    seen.add(url)
  }
  return [...seen]
}

function checkCredentials(
  credentials: CreateUpstreamInput['credentials'],
): Pick<UpstreamRecord, 'credentials' | 'credentialsKind'> {
  if (credentials === undefined || credentials === null) return { credentials: null, credentialsKind: 'none' }
  const { sealed, kind } = credentials
  if (typeof sealed !== 'string' || sealed.length === 0 || sealed.length > MAX_UPSTREAM_CREDENTIALS_LENGTH) {
    throw new InvalidUpstreamError(
      'credentials',
      `sealed credentials must be 1 to ${MAX_UPSTREAM_CREDENTIALS_LENGTH} characters.`,
    )
  }
  if ((kind as string) === 'none' || !UPSTREAM_CREDENTIALS_KINDS.includes(kind)) {
    throw new InvalidUpstreamError('credentials', 'credentials kind must be bearer or header.')
  }
  return { credentials: sealed, credentialsKind: kind }
}

function checkSettings(settings: unknown): Record<string, unknown> {
  if (settings === undefined) return {}
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new InvalidUpstreamError('settings', 'settings must be a JSON object.')
  }
  let text: string
  try {
    text = JSON.stringify(settings)
  } catch {
    throw new InvalidUpstreamError('settings', 'settings must be a JSON object.')
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_UPSTREAM_SETTINGS_BYTES) {
    throw new InvalidUpstreamError(
      'settings',
      `settings must be at most ${MAX_UPSTREAM_SETTINGS_BYTES} bytes of JSON.`,
    )
  }
  return JSON.parse(text) as Record<string, unknown>
}

export function newUpstreamRecord(input: CreateUpstreamInput, now: number): UpstreamRecord {
  return {
    kind: checkUpstreamKind(input.kind),
    id: checkUpstreamId(input.id),
    urls: checkUrls(input.urls),
    ...checkCredentials(input.credentials),
    settings: checkSettings(input.settings),
    createdAt: now,
    updatedAt: now,
  }
}

export function patchUpstreamRecord(
  record: UpstreamRecord,
  patch: UpdateUpstreamInput,
  now: number,
): UpstreamRecord {
  return {
    ...record,
    ...(patch.urls === undefined ? {} : { urls: checkUrls(patch.urls) }),
    ...(patch.credentials === undefined ? {} : checkCredentials(patch.credentials)),
    ...(patch.settings === undefined ? {} : { settings: checkSettings(patch.settings) }),
    updatedAt: now,
  }
}

export function cloneUpstreamRecord(record: UpstreamRecord): UpstreamRecord {
  return structuredClone(record)
}

/** Oldest first, then kind, then id: one order on every backend. */
export function compareUpstreams(a: UpstreamRecord, b: UpstreamRecord): number {
  return a.createdAt - b.createdAt || a.kind.localeCompare(b.kind) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
