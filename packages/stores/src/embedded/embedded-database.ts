import { existsSync } from 'node:fs'
import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import { MessageChannel, Worker } from 'node:worker_threads'
import { storesAsset } from '../assets.js'
import { DATA_DIR_LOCK_FILE } from '../data-dir-lock.js'
import { WorkerSocket } from './worker-socket.js'

/**
 * Postgres settings of the embedded database, below PGlite's (those of a server with memory to spare).
 * `shared_buffers` is taken from PGlite's WebAssembly heap at start-up: 128 MB by default, which the idle
 * gateway kept resident; 16 MB still holds every hot page of a laptop's gateway.
 */
export const EMBEDDED_SETTINGS = ['shared_buffers=16MB', 'wal_buffers=1MB', 'max_connections=10']

/**
 * PGlite running in its own worker thread; `connect()` opens one wire-protocol connection to it. A failure
 * after start-up ends the thread (told to `onError`): its connections close and the driver's statements fail
 * with CONNECTION_CLOSED, as when a server goes away.
 */
export interface EmbeddedDatabase {
  connect(): WorkerSocket
  /** Closes PGlite (a clean shutdown, so the next start needs no recovery) and ends the thread. */
  close(): Promise<void>
}

/** The embedded database could not start, or was used after it stopped. */
export class EmbeddedDatabaseError extends Error {
  override readonly name = 'EmbeddedDatabaseError'
}

/**
 * Starts PGlite in a worker thread on `dataDir` (in memory when undefined) and waits until it is ready. A
 * data folder without a database gets a copy of `templateDir` when one is given (see
 * `createEmbeddedTemplate`), else it is initialised by a thread of its own, ended before the serving one
 * starts: the memory initdb leaves behind in PGlite (about 500 MB) goes with it.
 */
export async function startEmbeddedDatabase(
  dataDir: string | undefined,
  templateDir?: string,
  onError: (error: Error) => void = () => {},
): Promise<EmbeddedDatabase> {
  if (dataDir !== undefined && !hasDatabase(dataDir)) {
    if (templateDir !== undefined && hasDatabase(templateDir)) {
      // PG_VERSION last: a copy cut short leaves a folder without it, which the next start copies again.
      const last = join(templateDir, 'PG_VERSION')
      const lock = join(templateDir, DATA_DIR_LOCK_FILE)
      await cp(templateDir, dataDir, {
        recursive: true,
        filter: (source) => source !== last && source !== lock,
      })
      await cp(last, join(dataDir, 'PG_VERSION'))
    } else {
      const initializer = await startWorker(dataDir, true)
      // Its work is done: whatever it reports while it is ended is of no consequence.
      initializer.worker.on('error', () => {})
      await initializer.worker.terminate()
    }
  }
  const { worker, exit } = await startWorker(dataDir, false)
  worker.on('error', onError)
  let exited = false
  void exit.then(() => {
    exited = true
  })
  let closing: Promise<void> | undefined
  return {
    connect() {
      if (exited) throw new EmbeddedDatabaseError('the embedded database has stopped')
      const { port1, port2 } = new MessageChannel()
      worker.postMessage({ type: 'connect', port: port2 }, [port2])
      return new WorkerSocket(port1)
    },
    close() {
      closing ??= (async () => {
        if (exited) return
        // An orderly close: a statement of a connection that closes at the same moment may fail in the
        // thread as PGlite shuts down, which is of no consequence now (not the database stopping under us).
        worker.off('error', onError)
        worker.on('error', () => {})
        const closed = new Promise<void>((resolve) => {
          const onMessage = (message: { type?: string }) => {
            if (message.type !== 'closed') return
            worker.off('message', onMessage)
            resolve()
          }
          worker.on('message', onMessage)
        })
        worker.postMessage({ type: 'close' })
        await Promise.race([closed, exit])
        await worker.terminate()
      })()
      return closing
    },
  }
}

function hasDatabase(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'))
}

/** A worker on `dataDir`, once it said it is ready (or, with `initOnly`, that the folder is initialised). */
async function startWorker(
  dataDir: string | undefined,
  initOnly: boolean,
): Promise<{ worker: Worker; exit: Promise<void> }> {
  const worker = new Worker(workerFile(), {
    workerData: { dataDir, settings: EMBEDDED_SETTINGS, initOnly },
    // Not the process's flags: a loader (tsx) or a preloaded script of the caller has no business here.
    execArgv: [],
    // The thread's JavaScript only moves wire bytes: a small young generation is enough (12 MB less resident).
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  })
  const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (message.type === (initOnly ? 'initialized' : 'ready')) settle(resolve)
    }
    const onError = (error: Error) =>
      settle(() => reject(new EmbeddedDatabaseError(error.message, { cause: error })))
    const onExit = (code: number) =>
      settle(() =>
        reject(new EmbeddedDatabaseError(`the embedded database stopped while starting (${code})`)),
      )
    const settle = (then: () => void) => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit)
      then()
    }
    worker.on('message', onMessage).on('error', onError).on('exit', onExit)
  })
  return { worker, exit }
}

/** The worker's file (in the gateway's bundle, `dist/pglite-worker.mjs`). */
function workerFile(): string {
  return storesAsset('pglite-worker.mjs', 'src/embedded/pglite-worker.mjs')
}
