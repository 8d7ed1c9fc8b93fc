import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DATA_DIR_LOCK_FILE, lockOwnerOf } from './data-dir-lock.js'
import { openDatabase, type ParleyDatabase } from './database.js'
import { DataDirLockedError } from './errors.js'

describe('embedded PGlite data folder lock', () => {
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function tempDataDir(): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'parley-lock-'))
    cleanups.push(() => rm(root, { recursive: true, force: true }))
    return join(root, 'data')
  }

  async function opened(dataDir: string): Promise<ParleyDatabase> {
    const database = await openDatabase({ dataDir })
    cleanups.push(() => database.close())
    return database
  }

  /** A live process that is not this one, as another gateway would be. */
  async function otherProcess(): Promise<ChildProcess & { pid: number }> {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { stdio: 'ignore' })
    await once(child, 'spawn')
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await once(child, 'exit')
      }
    })
    return child as ChildProcess & { pid: number }
  }

  it('refuses a second open of a data folder that is open, with an error that says what to do', async () => {
    const dataDir = await tempDataDir()
    const first = await opened(dataDir)
    const second = openDatabase({ dataDir })
    await expect(second).rejects.toBeInstanceOf(DataDirLockedError)
    await expect(second).rejects.toThrow(/already open in this process.*one process at a time/i)
    // The first handle is unharmed.
    await first.db.execute('select 1')
  })

  it('frees the folder on close, so it can be opened again', async () => {
    const dataDir = await tempDataDir()
    const first = await openDatabase({ dataDir })
    expect(existsSync(join(dataDir, DATA_DIR_LOCK_FILE))).toBe(true)
    await first.close()
    await first.close()
    expect(existsSync(join(dataDir, DATA_DIR_LOCK_FILE))).toBe(false)
    await opened(dataDir)
  })

  it('refuses a folder held by another live process, and takes it over once that process is killed', async () => {
    const dataDir = await tempDataDir()
    await (await openDatabase({ dataDir })).close()
    const other = await otherProcess()
    await writeFile(join(dataDir, DATA_DIR_LOCK_FILE), JSON.stringify(lockOwnerOf(other.pid)))
    const refused = openDatabase({ dataDir })
    await expect(refused).rejects.toBeInstanceOf(DataDirLockedError)
    await expect(refused).rejects.toThrow(`already open in process ${other.pid}`)
    other.kill('SIGKILL')
    await once(other, 'exit')
    const database = await opened(dataDir)
    await database.db.execute('select 1')
  })

  // An unreaped (zombie) process is only visible through Linux's /proc, where the lock's liveness check reads
  // it; on other systems there is no such state to build, so the test is skipped there (never on Linux or CI).
  it.skipIf(!existsSync('/proc/self/stat'))(
    'takes over a lock held by a killed process that its parent has not reaped yet',
    async () => {
      const dataDir = await tempDataDir()
      await (await openDatabase({ dataDir })).close()
      // The shell starts a child, then becomes `sleep`, which never reaps. The child is killed only once that
      // has happened (a shell could still reap it), so it stays a zombie that kill(pid, 0) finds.
      const parent = spawn('/bin/sh', ['-c', 'sleep 60 & echo $!; exec sleep 60'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      })
      cleanups.push(async () => {
        parent.kill('SIGKILL')
        if (parent.exitCode === null && parent.signalCode === null) await once(parent, 'exit')
      })
      const [line] = (await once(parent.stdout as NodeJS.ReadableStream, 'data')) as [Buffer]
      const zombie = Number(line.toString().trim())
      await vi.waitFor(
        async () => expect((await readFile(`/proc/${parent.pid}/comm`, 'utf8')).trim()).toBe('sleep'),
        { timeout: 5_000 },
      )
      process.kill(zombie, 'SIGKILL')
      await vi.waitFor(async () => expect(await readFile(`/proc/${zombie}/stat`, 'utf8')).toMatch(/\) Z /), {
        timeout: 5_000,
      })
      await writeFile(join(dataDir, DATA_DIR_LOCK_FILE), JSON.stringify(lockOwnerOf(zombie)))
      await opened(dataDir)
    },
  )

  it('takes over a lock whose pid now belongs to an unrelated process or to this one', async () => {
    const dataDir = await tempDataDir()
    await (await openDatabase({ dataDir })).close()
    const other = await otherProcess()
    const lockPath = join(dataDir, DATA_DIR_LOCK_FILE)
    // The pid is alive, but the process that wrote the lock started at another moment.
    await writeFile(lockPath, JSON.stringify({ pid: other.pid, startTime: '1' }))
    await (await openDatabase({ dataDir })).close()
    // Our own pid, from a previous run (pid 1 in a restarted container).
    await writeFile(lockPath, JSON.stringify({ pid: process.pid }))
    await (await openDatabase({ dataDir })).close()
    // Garbage left by a crash while the lock was written.
    await writeFile(lockPath, '{"pi')
    await opened(dataDir)
  })
})
