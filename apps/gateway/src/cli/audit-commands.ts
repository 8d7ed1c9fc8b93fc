import { createWriteStream } from 'node:fs'
import { access } from 'node:fs/promises'
import { AuditKind } from '@parley/protocol'
import { createPostgresAuditLog } from '@parley/stores'
import { Command, InvalidArgumentError, Option } from 'commander'
import { loadAuditPublicKey } from '../audit/audit-signing-key.js'
import { auditCheckpointPaths } from '../config.js'
import { AUDIT_EXPORT_FORMATS, type AuditExportFormat, exportAudit } from './audit-export.js'
import { verifyAudit } from './audit-verify.js'
import {
  type DatabaseFlags,
  databaseConfigOf,
  withDatabase,
  withDatabaseOptions,
} from './database-options.js'
import type { Output } from './token-commands.js'

/**
 * `parley audit verify|export`: read the audit straight from the database (`--database-url`, else the
 * embedded one in `<data-dir>/data`, which the gateway must not hold open at the same time).
 */

export interface AuditCommandDeps {
  output: Output
  env: Record<string, string | undefined>
  /** Where an export goes without `--output`. */
  stdout: NodeJS.WritableStream
  /** Marks the command as failed (exit code 1) without throwing. */
  fail: () => void
}

const AUDIT_MEMORY_REFUSAL = 'holds no audit to read'

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

function parseTime(value: string): string {
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('expected an ISO 8601 time')
  return value
}

function parseKind(value: string): string {
  if (!AuditKind.safeParse(value).success) {
    throw new InvalidArgumentError(`expected one of ${AuditKind.options.join(', ')}`)
  }
  return value
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  )
}

export function buildAuditCommand(deps: AuditCommandDeps): Command {
  const audit = new Command('audit').description(
    'verify and export the audit trail (reads the database directly)',
  )

  withDatabaseOptions(
    audit
      .command('verify')
      .description('check the hash chain and the signed checkpoints; name the first bad row')
      .option(
        '--checkpoint <path>',
        'checkpoint file or folder (repeatable; default: audit.checkpointDir, <data-dir>/audit-checkpoints)',
        collect,
        [] as string[],
      )
      .option(
        '--public-key <file>',
        'PEM key trusted to have signed checkpoints (repeatable; default: the signing key in the data folder)',
        collect,
        [] as string[],
      ),
  ).action(async (flags: DatabaseFlags & { checkpoint: string[]; publicKey: string[] }) => {
    const config = databaseConfigOf(flags, deps.env)
    const { dir, signingKeyFile } = auditCheckpointPaths(config)
    const keyFiles =
      flags.publicKey.length > 0 ? flags.publicKey : (await exists(signingKeyFile)) ? [signingKeyFile] : []
    const trustedKeys = await Promise.all(keyFiles.map(loadAuditPublicKey))
    const ok = await withDatabase(
      config,
      (database) =>
        verifyAudit(
          {
            database,
            checkpointPaths: flags.checkpoint.length > 0 ? flags.checkpoint : [dir],
            checkpointsOptional: flags.checkpoint.length === 0,
            trustedKeys,
          },
          deps.output,
        ),
      AUDIT_MEMORY_REFUSAL,
    )
    if (!ok) deps.fail()
  })

  withDatabaseOptions(
    audit
      .command('export')
      .description('write the audit rows matching the filters, newest first')
      .addOption(
        new Option('--format <format>', 'ndjson or csv').choices(AUDIT_EXPORT_FORMATS).makeOptionMandatory(),
      )
      .option('--kind <kind>', 'only rows of this kind', parseKind)
      .option('--principal <principal>', 'only rows of this principal')
      .option('--channel <channel>', 'only rows on this channel')
      .option('--target <target>', 'only rows to this target')
      .option('--correlation-id <id>', 'only rows with this correlation id')
      .option('--since <time>', 'only rows at or after this ISO 8601 time', parseTime)
      .option('--until <time>', 'only rows before this ISO 8601 time', parseTime)
      .option('--output <file>', 'write to this file instead of stdout'),
  ).action(
    async (
      flags: DatabaseFlags & {
        format: AuditExportFormat
        kind?: AuditKind
        principal?: string
        channel?: string
        target?: string
        correlationId?: string
        since?: string
        until?: string
        output?: string
      },
    ) => {
      const config = databaseConfigOf(flags, deps.env)
      const stream = flags.output === undefined ? deps.stdout : createWriteStream(flags.output)
      const write = (chunk: string) =>
        new Promise<void>((resolve, reject) =>
          stream.write(chunk, (error) => (error ? reject(error) : resolve())),
        )
      const rows = await withDatabase(
        config,
        (database) =>
          exportAudit(
            createPostgresAuditLog(database),
            {
              ...(flags.kind === undefined ? {} : { kind: flags.kind }),
              ...(flags.principal === undefined ? {} : { principal: flags.principal }),
              ...(flags.channel === undefined ? {} : { channel: flags.channel }),
              ...(flags.target === undefined ? {} : { target: flags.target }),
              ...(flags.correlationId === undefined ? {} : { correlationId: flags.correlationId }),
              ...(flags.since === undefined ? {} : { since: new Date(flags.since) }),
              ...(flags.until === undefined ? {} : { until: new Date(flags.until) }),
            },
            flags.format,
            write,
          ),
        AUDIT_MEMORY_REFUSAL,
      )
      if (flags.output !== undefined) {
        await new Promise<void>((resolve) => stream.end(resolve))
        deps.output.err(`Exported ${rows} audit rows to ${flags.output}`)
      }
    },
  )

  return audit
}
