import { join } from 'node:path'
import { openDatabase, type ParleyDatabase } from '@parley/stores'
import type { Command } from 'commander'
import { type GatewayConfig, parseConfig } from '../config.js'
import { mergeConfigInputs, readEnvConfig, toConfigInput } from '../env.js'

/**
 * The database of the commands that open it themselves (`parley audit …`, `parley migrate`): `--database-url`,
 * else the embedded one in `<data-dir>/data`, which the gateway must not hold open at the same time.
 */
export interface DatabaseFlags {
  databaseUrl?: string
  dataDir?: string
}

export function withDatabaseOptions(command: Command): Command {
  return command
    .option('--database-url <url>', 'postgres://… (default: PARLEY_DATABASE_URL, else the embedded database)')
    .option(
      '--data-dir <dir>',
      'data folder of the embedded database, key and checkpoints (default ./.parley)',
    )
}

export function databaseConfigOf(
  flags: DatabaseFlags,
  env: Record<string, string | undefined>,
): GatewayConfig {
  const flagInput = toConfigInput({ databaseUrl: flags.databaseUrl, dataDir: flags.dataDir })
  return parseConfig(mergeConfigInputs(readEnvConfig(env), flagInput))
}

/** Opens the configured database (applying pending migrations, as every open does), runs `run`, closes it. */
export async function withDatabase<T>(
  config: GatewayConfig,
  run: (database: ParleyDatabase) => Promise<T>,
  memoryRefusal: string,
): Promise<T> {
  if (config.databaseUrl?.startsWith('memory://')) {
    throw new Error(
      `memory:// ${memoryRefusal}: give --database-url postgres://… or the --data-dir of the embedded database`,
    )
  }
  const database = await openDatabase({
    url: config.databaseUrl,
    dataDir: join(config.dataDir, 'data'),
    preparedStatements: config.stores.preparedStatements,
  })
  try {
    return await run(database)
  } finally {
    await database.close()
  }
}
