import { migrationStatus } from '@parley/stores'
import { Command } from 'commander'
import {
  type DatabaseFlags,
  databaseConfigOf,
  withDatabase,
  withDatabaseOptions,
} from './database-options.js'
import type { Output } from './token-commands.js'

export interface MigrateCommandDeps {
  output: Output
  env: Record<string, string | undefined>
}

/**
 * `parley migrate`: applies this version's pending migrations (under the advisory lock every start takes) and
 * exits. The first step of an upgrade (docs/operations.md, "Upgrading"): the schema is new before any node of the
 * new version serves, and migrations only add, so the running nodes of the previous version keep working on it.
 */
export function buildMigrateCommand(deps: MigrateCommandDeps): Command {
  return withDatabaseOptions(
    new Command('migrate').description(
      "apply this version's pending database migrations and exit (run it before restarting nodes on a new version)",
    ),
  ).action(async (flags: DatabaseFlags) => {
    const config = databaseConfigOf(flags, deps.env)
    const status = await withDatabase(
      config,
      (database) => migrationStatus(database.db),
      'holds nothing to migrate',
    )
    const latest = status.available.at(-1) ?? 'none'
    deps.output.out(
      `Database migrated: ${status.applied} migrations applied; this version has ${status.available.length}, the latest ${latest}.`,
    )
  })
}
