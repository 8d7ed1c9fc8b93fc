import type { KeyObject } from 'node:crypto'
import {
  type AuditChainHead,
  type AuditChainStore,
  type AuditLog,
  checkAuditCheckpoint,
  signAuditCheckpoint,
  type TrustedCheckpoint,
} from '@parley/stores'
import type { Logger } from 'pino'
import { deleteCheckpointFiles, readCheckpointFiles, writeCheckpointFile } from './audit-checkpoint-files.js'
import { loadAuditSigningKey } from './audit-signing-key.js'

export interface AuditCheckpointOptions {
  /** The open audit log; undefined (or one without a chain) while the stores are closed or the audit is off. */
  audit: () => AuditLog | undefined
  /** Folder the checkpoint files go to (`audit.checkpointDir`). */
  dir: string
  /** Ed25519 private key file (`audit.signingKeyFile`), generated when missing. */
  signingKeyFile: string
  /** Sign once this many rows were appended since the last checkpoint (`audit.checkpointRows`). */
  everyRows: number
  /** And every this many milliseconds when rows were appended (`audit.checkpointInterval`). */
  intervalMs: number
  /** Delete rows older than this, up to a checkpoint (`audit.retention`); 0 keeps every row. */
  retentionMs: number
  logger: Logger
  now?: () => Date
}

/**
 * Signs the audit chain's head every `everyRows` rows (told by the audit writer after each batch) or every
 * `intervalMs` (reading the head, which other nodes move too) and writes it as a file outside the database.
 * With a retention, each tick deletes the rows up to the newest of this node's checkpoints signed before the
 * cut-off: the chain then starts right after a signed checkpoint, so `parley audit verify` still passes.
 */
export function createAuditCheckpoints(options: AuditCheckpointOptions) {
  const now = options.now ?? (() => new Date())
  const logger = options.logger.child({ component: 'audit-checkpoints' })
  let key: KeyObject | undefined
  let lastSignedSeq = 0n
  let lastRequestedSeq = 0n
  let timer: NodeJS.Timeout | undefined
  // One write at a time, so checkpoints land in seq order and none is signed twice.
  let queue: Promise<unknown> = Promise.resolve()

  const chain = (): AuditChainStore | undefined => options.audit()?.chain

  function serially<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task)
    queue = run.catch(() => {})
    return run
  }

  /** Signs `head` unless a checkpoint at or past it exists; resolves to the file written, if any. */
  function sign(head: AuditChainHead): Promise<string | undefined> {
    return serially(async () => {
      if (key === undefined || head.seq <= lastSignedSeq) return undefined
      const file = await writeCheckpointFile(options.dir, signAuditCheckpoint(head, now(), key))
      lastSignedSeq = head.seq
      if (lastRequestedSeq < head.seq) lastRequestedSeq = head.seq
      logger.debug({ seq: head.seq.toString(), file }, 'audit checkpoint signed')
      return file
    })
  }

  /** Signs the current head if rows were appended since the last checkpoint. */
  async function checkpoint(): Promise<string | undefined> {
    const current = chain()
    if (current === undefined) return undefined
    await options.audit()?.flush()
    return sign(await current.head())
  }

  /** This node's checkpoints, checked with its own key, oldest first. */
  async function ownCheckpoints(): Promise<TrustedCheckpoint[]> {
    if (key === undefined) return []
    const trusted = key
    const files = await readCheckpointFiles([options.dir], { optional: true })
    return files.flatMap((file) => {
      try {
        return [checkAuditCheckpoint(file.value, file.source, [trusted])]
      } catch {
        return []
      }
    })
  }

  /** Deletes the rows up to the newest checkpoint signed before the retention's cut-off; returns how many. */
  async function prune(): Promise<number> {
    const current = chain()
    if (options.retentionMs <= 0 || current === undefined) return 0
    const cutoff = now().getTime() - options.retentionMs
    // A checkpoint's rows were all appended before it was signed, so they are older than its time.
    const behind = (await ownCheckpoints())
      .filter((checkpoint) => Date.parse(checkpoint.time) < cutoff)
      .at(-1)
    if (behind === undefined) return 0
    const deleted = await current.prune(behind.seq)
    if (deleted > 0)
      logger.info({ deleted, throughSeq: behind.seq.toString() }, 'deleted audit rows past their retention')
    // The checkpoints behind the anchor vouch for rows that are gone; the anchor and later ones stay.
    const stale = (await ownCheckpoints()).filter((checkpoint) => checkpoint.seq < behind.seq)
    await deleteCheckpointFiles(
      options.dir,
      stale.map((checkpoint) => checkpoint.source),
    )
    return deleted
  }

  async function tick(): Promise<void> {
    await checkpoint()
    await prune()
  }

  return {
    checkpoint,
    prune,
    /** Told by the audit writer after each batch: signs when `everyRows` rows were appended since the last. */
    noteAppend(head: AuditChainHead): void {
      // Counted from the last checkpoint asked for, not the last written: a write may still be under way.
      if (key === undefined || head.seq - lastRequestedSeq < BigInt(options.everyRows)) return
      lastRequestedSeq = head.seq
      sign(head).catch((error: unknown) => logger.warn({ err: error }, 'signing an audit checkpoint failed'))
    },
    /** Loads (or makes) the key, learns the last checkpoint from the folder, starts the timer. */
    async start(): Promise<void> {
      key = await loadAuditSigningKey(options.signingKeyFile, { create: true })
      lastSignedSeq = (await ownCheckpoints()).at(-1)?.seq ?? 0n
      lastRequestedSeq = lastSignedSeq
      if (timer !== undefined) return
      timer = setInterval(() => {
        tick().catch((error: unknown) => logger.warn({ err: error }, 'audit checkpoint failed'))
      }, options.intervalMs)
      timer.unref()
    },
    /** Stops the timer after a last checkpoint of what was written until now. */
    async stop(): Promise<void> {
      clearInterval(timer)
      timer = undefined
      await checkpoint().catch((error: unknown) =>
        logger.warn({ err: error }, 'the last audit checkpoint failed'),
      )
    },
  }
}

export type AuditCheckpoints = ReturnType<typeof createAuditCheckpoints>
