import { sql } from 'drizzle-orm'
import type { ParleyExecutor } from '../database.js'
import { publishKeys } from '../schema.js'
import { chunks, parseJson, resultRows } from './postgres-rows.js'

/**
 * Idempotency keys in `publish_keys`, shared by publish and send. Claiming inserts with ON CONFLICT, so
 * gateway nodes on one database agree on which call was first: a concurrent claim of the same key waits
 * for the first transaction's row and then sees a conflict.
 */

export interface KeyClaim {
  scope: string
  key: string
  /** The call's time: the key is remembered until `createdAt + window`. */
  createdAt: number
  expiresAt: number
  /** The first result, when known at claim time (sends); publishes fill it in later in the transaction. */
  result?: unknown
}

const CLAIMS_PER_STATEMENT = 2_000

const keyId = (scope: string, key: string) => JSON.stringify([scope, key])

/**
 * Claims keys (each at most once in `claims`) and returns the ids (`keyId`) of those claimed: new ones,
 * and ones whose earlier use has expired. The others are duplicates of an earlier commit.
 */
export async function claimKeys(tx: ParleyExecutor, claims: KeyClaim[]): Promise<Set<string>> {
  const claimed = new Set<string>()
  // One lock order for every node: two transactions claiming the same keys cannot deadlock.
  const sorted = [...claims].sort((a, b) => compare(keyId(a.scope, a.key), keyId(b.scope, b.key)))
  for (const chunk of chunks(sorted, CLAIMS_PER_STATEMENT)) {
    const rows = await tx
      .insert(publishKeys)
      .values(
        chunk.map((claim) => ({
          scope: claim.scope,
          key: claim.key,
          result: claim.result ?? null,
          createdAt: claim.createdAt,
          expiresAt: claim.expiresAt,
        })),
      )
      .onConflictDoUpdate({
        target: [publishKeys.scope, publishKeys.key],
        set: {
          result: sql`excluded.result`,
          createdAt: sql`excluded.created_at`,
          expiresAt: sql`excluded.expires_at`,
        },
        // Only an expired key is taken over; a live one makes this row a duplicate (not returned).
        setWhere: sql`${publishKeys.expiresAt} <= excluded.created_at`,
      })
      .returning({ scope: publishKeys.scope, key: publishKeys.key })
    for (const row of rows) claimed.add(keyId(row.scope, row.key))
  }
  return claimed
}

/** Stores the first results of keys claimed earlier in the same transaction. */
export async function storeKeyResults(
  tx: ParleyExecutor,
  results: { scope: string; key: string; result: unknown }[],
): Promise<void> {
  for (const chunk of chunks(results, CLAIMS_PER_STATEMENT)) {
    const values = sql.join(
      chunk.map((row) => sql`(${row.scope}, ${row.key}, ${JSON.stringify(row.result)})`),
      sql`, `,
    )
    await tx.execute(
      sql`update ${publishKeys} set result = v.result::jsonb from (values ${values}) as v(scope, key, result) where ${publishKeys.scope} = v.scope and ${publishKeys.key} = v.key`,
    )
  }
}

/** The first results of keys held by earlier commits, by `keyId`. */
export async function readKeyResults(
  tx: ParleyExecutor,
  keys: { scope: string; key: string }[],
): Promise<Map<string, unknown>> {
  const results = new Map<string, unknown>()
  for (const chunk of chunks(keys, CLAIMS_PER_STATEMENT)) {
    // A join on VALUES rather than `(scope, key) in (…)`: PGlite fails ("bad buffer ID") on long row lists.
    const values = sql.join(
      chunk.map((key) => sql`(${key.scope}, ${key.key})`),
      sql`, `,
    )
    const rows = resultRows<{ scope: string; key: string; result: string | null }>(
      await tx.execute(
        sql`select k.scope, k.key, k.result::text as result from ${publishKeys} k join (values ${values}) as v(scope, key) on k.scope = v.scope and k.key = v.key`,
      ),
    )
    for (const row of rows) results.set(keyId(row.scope, row.key), parseJson(row.result))
  }
  return results
}

/** The keys of one group-commit batch: what it claimed, what repeats itself, what earlier commits hold. */
export interface BatchKeys {
  /** The first use in the batch of each key, claimed for it. */
  claims: { index: number; scope: string; key: string }[]
  /** Index of a repeat within the batch → index of its key's first use. */
  repeatOf: Map<number, number>
  /** Index of a claim whose key a live earlier commit holds → that key. */
  heldElsewhere: Map<number, { scope: string; key: string }>
}

/**
 * Claims the idempotency keys of a batch of inputs (`scopeOf` scopes each key); a key used twice in the
 * batch is claimed once, by its first use. `resultOf` gives a claim's first result when known now.
 */
export async function claimBatchKeys<Input extends { timestamp: number; idempotencyKey?: string }>(
  tx: ParleyExecutor,
  inputs: Input[],
  options: {
    scopeOf: (input: Input) => string
    dedupeWindowMs: number
    resultOf?: (index: number) => unknown
  },
): Promise<BatchKeys> {
  const firstUse = new Map<string, number>()
  const repeatOf = new Map<number, number>()
  const claims: BatchKeys['claims'] = []
  inputs.forEach((input, index) => {
    if (input.idempotencyKey === undefined) return
    const scope = options.scopeOf(input)
    const id = keyId(scope, input.idempotencyKey)
    const first = firstUse.get(id)
    if (first === undefined) {
      firstUse.set(id, index)
      claims.push({ index, scope, key: input.idempotencyKey })
    } else {
      repeatOf.set(index, first)
    }
  })
  const heldElsewhere: BatchKeys['heldElsewhere'] = new Map()
  if (claims.length > 0) {
    const claimed = await claimKeys(
      tx,
      claims.map((claim) => {
        const { timestamp } = inputs[claim.index] as Input
        return {
          ...claim,
          createdAt: timestamp,
          expiresAt: timestamp + options.dedupeWindowMs,
          result: options.resultOf?.(claim.index),
        }
      }),
    )
    for (const claim of claims) {
      if (!claimed.has(keyId(claim.scope, claim.key))) heldElsewhere.set(claim.index, claim)
    }
  }
  return { claims, repeatOf, heldElsewhere }
}

/** The first results of the keys held by earlier commits, by input index; each one must have its result. */
export async function readHeldResults(
  tx: ParleyExecutor,
  heldElsewhere: BatchKeys['heldElsewhere'],
): Promise<Map<number, unknown>> {
  const byIndex = new Map<number, unknown>()
  if (heldElsewhere.size === 0) return byIndex
  const results = await readKeyResults(tx, [...heldElsewhere.values()])
  for (const [index, claim] of heldElsewhere) {
    const result = results.get(keyId(claim.scope, claim.key))
    if (result === undefined || result === null) {
      throw new Error('An idempotency key is held without its first result')
    }
    byIndex.set(index, result)
  }
  return byIndex
}

export { keyId }

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
