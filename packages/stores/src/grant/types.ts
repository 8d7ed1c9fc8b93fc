/**
 * Contracts of the grant store: accepted introductions. A grant links two parties by their keys (the agent
 * id of a registered agent, else the client id) and counts in both directions until it is revoked. Rows are
 * never deleted, so the number of creations plus revocations is a version that only grows: a node compares
 * it with the one its cached grant set was read at.
 *
 * Times are epoch milliseconds; methods that write take `now` so tests control the clock.
 */

export interface GrantParty {
  principal: string
  clientId: string
  /** Present when the party is a registered agent: then it is the party's key. */
  agentId?: string
}

export interface Grant {
  /** `grt_…` */
  id: string
  /** Who asked to be introduced. */
  from: GrantParty
  /** Who accepted. */
  to: GrantParty
  reason: string | null
  createdAt: number
  revokedAt: number | null
  /** Who revoked it (an admin principal), once revoked. */
  revokedBy: string | null
}

export interface CreateGrantInput {
  from: GrantParty
  to: GrantParty
  reason?: string | null
}

export interface GrantListOptions {
  /** Revoked grants too; default only live ones. */
  includeRevoked?: boolean
}

export interface GrantStore {
  /** Throws `InvalidGrantError` for a malformed party or reason. */
  create(input: CreateGrantInput, now: number): Promise<Grant>
  get(id: string): Promise<Grant | undefined>
  /** Newest first (then by id descending). */
  list(options?: GrantListOptions): Promise<Grant[]>
  /**
   * Revokes the grant; revoking a revoked grant changes nothing and returns it as it is. Undefined for an
   * unknown id.
   */
  revoke(id: string, by: string, now: number): Promise<Grant | undefined>
  /** The newest live grant linking the two keys, in either direction. */
  liveBetween(keyA: string, keyB: string): Promise<Grant | undefined>
  /** 0 for an empty store; grows by one on every creation and every revocation. */
  version(): Promise<number>
}

/** The key a party is linked by: its agent id when it is an agent, else its client id. */
export function grantKey(party: GrantParty): string {
  return party.agentId ?? party.clientId
}
