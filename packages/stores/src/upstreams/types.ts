/**
 * Contracts of the upstream store: the external services the gateway calls on behalf of its callers (external
 * A2A agents, MCP servers), as an operator registered them. Health is runtime state of each node and is not
 * stored. A version that increases on every change lets each node tell that its copy is stale.
 *
 * The store never sees credentials in clear: the gateway seals them (AES-256-GCM) before `create` / `update`
 * and opens them after reading; `credentials` here is that opaque text.
 */

export const UPSTREAM_KINDS = ['a2a', 'mcp'] as const
export type UpstreamKind = (typeof UPSTREAM_KINDS)[number]

/** Which credentials an upstream has, shown in listings in place of their value. */
export const UPSTREAM_CREDENTIALS_KINDS = ['none', 'bearer', 'header'] as const
export type UpstreamCredentialsKind = (typeof UPSTREAM_CREDENTIALS_KINDS)[number]

export interface UpstreamRecord {
  kind: UpstreamKind
  /** The agent id (a2a) or server name (mcp): unique within its kind. */
  id: string
  /** Its URLs, in the order given, each once (a2a: one per instance; mcp: usually one). */
  urls: string[]
  /** The sealed credentials, opaque to the store; null with `credentialsKind: 'none'`. */
  credentials: string | null
  credentialsKind: UpstreamCredentialsKind
  /** Anything else its kind needs to keep (small JSON object); `{}` when nothing. */
  settings: Record<string, unknown>
  createdAt: number
  updatedAt: number
}

export interface CreateUpstreamInput {
  kind: UpstreamKind
  id: string
  urls: readonly string[]
  /** Both or neither: sealed credentials and their kind (other than `none`). */
  credentials?: { sealed: string; kind: Exclude<UpstreamCredentialsKind, 'none'> } | null
  settings?: Record<string, unknown>
}

/** Fields to change; `credentials: null` removes them. */
export interface UpdateUpstreamInput {
  urls?: readonly string[]
  credentials?: { sealed: string; kind: Exclude<UpstreamCredentialsKind, 'none'> } | null
  settings?: Record<string, unknown>
}

export interface UpstreamStore {
  /** Every upstream (of `kind` when given), oldest first, then by kind and id. */
  list(kind?: UpstreamKind): Promise<UpstreamRecord[]>
  get(kind: UpstreamKind, id: string): Promise<UpstreamRecord | undefined>
  /**
   * Throws `InvalidUpstreamError` for a malformed record and `UpstreamExistsError` when the kind already has
   * an upstream `id`. Bumps the version.
   */
  create(input: CreateUpstreamInput, now: number): Promise<UpstreamRecord>
  /** The updated record, or undefined when there is none. Bumps the version when it updates. */
  update(
    kind: UpstreamKind,
    id: string,
    patch: UpdateUpstreamInput,
    now: number,
  ): Promise<UpstreamRecord | undefined>
  /** Resolves true when the upstream existed and is now deleted (and the version bumped). */
  delete(kind: UpstreamKind, id: string): Promise<boolean>
  /** 0 for a store never changed; increases on every change, never decreases. */
  version(): Promise<number>
  /** Releases its connection (Redis); the memory and Postgres stores have nothing to release. */
  close(): Promise<void>
}
