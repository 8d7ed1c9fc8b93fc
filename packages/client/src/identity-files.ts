import { randomUUID } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import {
  type AgentIdentity,
  exportIdentity,
  IdentityError,
  type IdentityKeyOptions,
  importIdentity,
} from './identity.js'

export interface SaveIdentityOptions {
  /** Replace an existing file. Default `false`: an agent's key is its identity, losing it is not undoable. */
  overwrite?: boolean
}

/**
 * Writes the identity as JSON (private key included) with mode 0600, owner read/write only. Refuses with an
 * `IdentityError` (`file_exists`) when the file exists, unless `{ overwrite: true }`. The mode is applied as
 * given (minus the process umask); it means nothing on Windows, where the folder's ACL protects the file.
 */
export async function saveIdentity(
  path: string,
  identity: AgentIdentity,
  options: SaveIdentityOptions = {},
): Promise<void> {
  const text = `${JSON.stringify(await exportIdentity(identity), null, 2)}\n`
  if (options.overwrite === true) {
    // A fresh file renamed over the old one: the mode is 0600 even if the old file's was not, and a crash
    // mid-write leaves the old identity intact.
    const temporary = `${path}.${randomUUID()}.tmp`
    try {
      await writeFile(temporary, text, { mode: 0o600, flag: 'wx' })
      await rename(temporary, path)
    } catch (error) {
      await rm(temporary, { force: true })
      throw error
    }
    return
  }
  try {
    // `wx` checks and creates in one step, so two agents started at once cannot both write.
    await writeFile(path, text, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new IdentityError('file_exists', `${path} exists; pass { overwrite: true } to replace it`, {
        cause: error,
      })
    }
    throw error
  }
}

/** Reads a file written by `saveIdentity`, with every check of `importIdentity`. */
export async function loadIdentity(path: string, options: IdentityKeyOptions = {}): Promise<AgentIdentity> {
  const text = await readFile(path, 'utf8')
  let file: unknown
  try {
    file = JSON.parse(text)
  } catch (error) {
    throw new IdentityError('invalid_file', `${path} is not JSON`, { cause: error })
  }
  return importIdentity(file, options)
}
