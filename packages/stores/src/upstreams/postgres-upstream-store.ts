import { and, asc, eq, sql } from 'drizzle-orm'
import type { ParleyDatabase, ParleyTransaction } from '../database.js'
import { UpstreamExistsError } from '../errors.js'
import { type UpstreamRow, upstreams, upstreamVersions } from '../schema.js'
import type { UpstreamCredentialsKind, UpstreamKind, UpstreamRecord, UpstreamStore } from './types.js'
import {
  checkUpstreamId,
  checkUpstreamKind,
  compareUpstreams,
  newUpstreamRecord,
  patchUpstreamRecord,
} from './upstream-records.js'

const VERSION_ID = 'global'

function toRecord(row: UpstreamRow): UpstreamRecord {
  return {
    kind: row.kind as UpstreamKind,
    id: row.id,
    urls: [...row.urls],
    credentials: row.credentials,
    credentialsKind: row.credentialsKind as UpstreamCredentialsKind,
    settings: row.settings,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

/**
 * Upstreams in `upstreams`, the version in the one `upstream_versions` row. Every change bumps the version in
 * its own transaction (creating the row on the first change), so the row lock orders changes from every node.
 */
export function createPostgresUpstreamStore(database: ParleyDatabase): UpstreamStore {
  const { db } = database

  async function bumpVersion(tx: ParleyTransaction): Promise<void> {
    await tx
      .insert(upstreamVersions)
      .values({ id: VERSION_ID, version: 1 })
      .onConflictDoUpdate({
        target: upstreamVersions.id,
        set: { version: sql`${upstreamVersions.version} + 1` },
      })
  }

  const where = (kind: UpstreamKind, id: string) =>
    and(eq(upstreams.kind, checkUpstreamKind(kind)), eq(upstreams.id, checkUpstreamId(id)))

  return {
    async list(kind) {
      const rows = await db
        .select()
        .from(upstreams)
        .where(kind === undefined ? undefined : eq(upstreams.kind, checkUpstreamKind(kind)))
        .orderBy(asc(upstreams.createdAt))
      return rows.map(toRecord).sort(compareUpstreams)
    },

    async get(kind, id) {
      const [row] = await db.select().from(upstreams).where(where(kind, id))
      return row === undefined ? undefined : toRecord(row)
    },

    async create(input, now) {
      const record = newUpstreamRecord(input, now)
      return db.transaction(async (tx) => {
        const inserted = await tx
          .insert(upstreams)
          .values(record)
          .onConflictDoNothing()
          .returning({ id: upstreams.id })
        if (inserted.length === 0) throw new UpstreamExistsError(record.kind, record.id)
        await bumpVersion(tx)
        return record
      })
    },

    async update(kind, id, patch, now) {
      return db.transaction(async (tx) => {
        const [row] = await tx.select().from(upstreams).where(where(kind, id)).for('update')
        if (row === undefined) return undefined
        const next = patchUpstreamRecord(toRecord(row), patch, now)
        const { kind: _kind, id: _id, createdAt: _createdAt, ...changes } = next
        await tx.update(upstreams).set(changes).where(where(kind, id))
        await bumpVersion(tx)
        return next
      })
    },

    async delete(kind, id) {
      return db.transaction(async (tx) => {
        const deleted = await tx.delete(upstreams).where(where(kind, id)).returning({ id: upstreams.id })
        if (deleted.length === 0) return false
        await bumpVersion(tx)
        return true
      })
    },

    async version() {
      const [row] = await db.select().from(upstreamVersions).where(eq(upstreamVersions.id, VERSION_ID))
      return row?.version ?? 0
    },

    async close() {},
  }
}
