import { UpstreamCredentials } from '@parley/protocol'
import type { CreateUpstreamInput, UpstreamKind, UpstreamRecord } from '@parley/stores'
import type { SecretBox } from '../security/secret-box.js'

/** What a record's credentials are sealed for: a sealed value does not open as another record's. */
function contextOf(kind: UpstreamKind, id: string): string {
  return `upstream:${kind}:${id}`
}

/** The credentials as the store keeps them: sealed with the secret box, their kind beside them. */
export function sealCredentials(
  box: SecretBox,
  kind: UpstreamKind,
  id: string,
  credentials: UpstreamCredentials | undefined,
): CreateUpstreamInput['credentials'] {
  if (credentials === undefined) return null
  return { sealed: box.seal(JSON.stringify(credentials), contextOf(kind, id)), kind: credentials.type }
}

/**
 * The record's credentials in clear, for the call to the upstream only (never returned, logged or audited).
 * Throws `SecretBoxError` when they do not open (another key: `upstreams.secretKey` or the pairing secret changed).
 */
export function openCredentials(box: SecretBox, record: UpstreamRecord): UpstreamCredentials | undefined {
  if (record.credentials === null) return undefined
  return UpstreamCredentials.parse(
    JSON.parse(box.open(record.credentials, contextOf(record.kind, record.id))),
  )
}

/** The header that presents the credentials. */
export function credentialHeaders(credentials: UpstreamCredentials | undefined): Record<string, string> {
  if (credentials === undefined) return {}
  if (credentials.type === 'bearer') return { authorization: `Bearer ${credentials.token}` }
  return { [credentials.name.toLowerCase()]: credentials.value }
}

/** A fetch that presents the credentials on every request (the SDK clients take it as `fetchImpl`). */
export function fetchWithCredentials(
  credentials: UpstreamCredentials | undefined,
  base: typeof fetch = fetch,
): typeof fetch {
  const extra = credentialHeaders(credentials)
  if (Object.keys(extra).length === 0) return base
  return (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
    for (const [name, value] of Object.entries(extra)) headers.set(name, value)
    return base(input, { ...init, headers })
  }
}
