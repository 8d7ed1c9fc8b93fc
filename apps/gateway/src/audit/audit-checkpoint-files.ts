import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { AuditCheckpoint } from '@parley/stores'

/** `checkpoint-<seq, 20 digits>.json`: file names sort in chain order. */
export function checkpointFileName(seq: string): string {
  return `checkpoint-${seq.padStart(20, '0')}.json`
}

const CHECKPOINT_FILE = /^checkpoint-\d{20}\.json$/

/** Writes a checkpoint atomically (a temporary file renamed), so a reader never sees half a file. */
export async function writeCheckpointFile(dir: string, checkpoint: AuditCheckpoint): Promise<string> {
  await mkdir(dir, { recursive: true })
  const file = join(dir, checkpointFileName(checkpoint.seq))
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`, { mode: 0o644 })
  await rename(temporary, file)
  return file
}

/** A checkpoint file's parsed JSON (checked later, against the trusted keys). */
export interface CheckpointFile {
  source: string
  value: unknown
}

/**
 * The checkpoint files at `paths`: a file is read as it is; a folder gives its `checkpoint-*.json` files in
 * chain order. A missing folder gives none when `optional` (the default folder before any checkpoint).
 */
export async function readCheckpointFiles(
  paths: string[],
  options: { optional?: boolean } = {},
): Promise<CheckpointFile[]> {
  const files: CheckpointFile[] = []
  for (const path of paths) {
    let isFolder: boolean
    try {
      isFolder = (await stat(path)).isDirectory()
    } catch (error) {
      if (options.optional && (error as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw error
    }
    const names = isFolder
      ? (await readdir(path))
          .filter((name) => CHECKPOINT_FILE.test(name))
          .sort()
          .map((name) => join(path, name))
      : [path]
    for (const file of names) {
      const text = await readFile(file, 'utf8')
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        value = undefined
      }
      files.push({ source: isFolder ? basename(file) : file, value })
    }
  }
  return files
}

/** Deletes the checkpoint files in `dir` named by `names` (a retention's files behind its anchor). */
export async function deleteCheckpointFiles(dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    if (CHECKPOINT_FILE.test(name)) await rm(join(dir, name), { force: true })
  }
}
