import { readFileSync } from 'node:fs'
import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { DataDirLockedError } from './errors.js'

/**
 * Embedded PGlite has no lock of its own: two processes that open one data folder both succeed and
 * overwrite each other's pages, losing rows silently. This lock file makes the second one fail instead.
 */
export const DATA_DIR_LOCK_FILE = 'parley.lock'

/** Who holds a data folder: a process, told apart from a later one that reuses its pid by its start time. */
export interface DataDirLockOwner {
  pid: number
  /** Start time of the process in clock ticks since boot (Linux `/proc/<pid>/stat`), when known. */
  startTime?: string
}

export interface DataDirLock {
  readonly path: string
  release(): Promise<void>
}

// Folders locked by this process: a second open in the same process is refused like one from another.
const heldHere = new Set<string>()

/** Takes the lock of `dataDir` (an absolute path) or throws `DataDirLockedError` naming the holder. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, DATA_DIR_LOCK_FILE)
  if (heldHere.has(path)) throw new DataDirLockedError(dataDir, process.pid)
  const content = JSON.stringify(currentOwner())
  // Two attempts: the second one follows the removal of a lock left by a process that died.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o600)
      try {
        await handle.writeFile(content)
      } finally {
        await handle.close()
      }
      heldHere.add(path)
      let released = false
      return {
        path,
        async release() {
          if (released) return
          released = true
          heldHere.delete(path)
          await rm(path, { force: true })
        },
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const existing = await readFile(path, 'utf8').catch(() => '')
    const owner = parseOwner(existing)
    if (owner !== undefined && isAlive(owner)) throw new DataDirLockedError(dataDir, owner.pid)
    // Stale (its process is gone) or unreadable (a crash while writing it). Removed only if unchanged
    // since we read it, so two processes starting after a crash do not both take over.
    if ((await readFile(path, 'utf8').catch(() => '')) === existing) await rm(path, { force: true })
  }
  throw new DataDirLockedError(dataDir, undefined)
}

function currentOwner(): DataDirLockOwner {
  return lockOwnerOf(process.pid)
}

/** What the lock file records for the process `pid`. */
export function lockOwnerOf(pid: number): DataDirLockOwner {
  const startTime = processStartTime(pid)
  return startTime === undefined ? { pid } : { pid, startTime }
}

function parseOwner(text: string): DataDirLockOwner | undefined {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null) return undefined
    const { pid, startTime } = value as { pid?: unknown; startTime?: unknown }
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined
    return typeof startTime === 'string' ? { pid, startTime } : { pid }
  } catch {
    return undefined
  }
}

function isAlive(owner: DataDirLockOwner): boolean {
  // Our own pid without our own lock: a previous run of this program that got the same pid (pid 1 in a
  // restarted container, say).
  if (owner.pid === process.pid) return false
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const stat = processStat(owner.pid)
  // A killed process that its parent has not reaped yet still answers kill(pid, 0).
  if (stat?.state === 'Z' || stat?.state === 'X') return false
  // A live pid that started at another time is an unrelated process that reused the number.
  return owner.startTime === undefined || stat === undefined || stat.startTime === owner.startTime
}

function processStartTime(pid: number): string | undefined {
  return processStat(pid)?.startTime
}

/** State (field 3) and start time (field 22) of `/proc/<pid>/stat`; undefined where there is no procfs. */
function processStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may hold spaces; count fields after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const [state, startTime] = [fields[0], fields[19]]
    return state === undefined || startTime === undefined ? undefined : { state, startTime }
  } catch {
    return undefined
  }
}
