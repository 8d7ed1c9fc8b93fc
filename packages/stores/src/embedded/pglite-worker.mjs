// The embedded database's thread: PGlite runs here, never on the gateway's event loop. The gateway talks to it
// with the `postgres` driver, as to a server: each connection is a MessagePort carrying the Postgres wire
// protocol, and the bytes go to PGlite's own protocol entry point. Plain JavaScript because a worker thread
// is started from a file that Node runs as it is (the package is consumed from TypeScript source).
import { setFlagsFromString } from 'node:v8'
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'

// V8 compiles PGlite's WebAssembly quickly (Liftoff), then recompiles each function that ran a while with its
// optimising compiler. With the default budget start-up alone recompiles hundreds of functions, and the code
// and the compiler's memory stay resident (about 35 MB of an idle gateway); with this one only functions
// that keep running under load are recompiled (no CPU difference measured on 12,000 inserts). The flag is
// the process's, and PGlite is its only heavy WebAssembly.
setFlagsFromString('--wasm-tiering-budget=100000000')

/** @type {{ dataDir: string | undefined, settings: string[], initOnly: boolean }} */
const { dataDir, settings, initOnly } = workerData
const SSL_REQUEST_CODE = 80877103
const CANCEL_REQUEST_CODE = 80877102
const TERMINATE = 0x58 // 'X'
/** A simple-protocol `Query` message: 'Q', its length, the SQL text and a NUL. */
const ROLLBACK = (() => {
  const text = new TextEncoder().encode('rollback\0')
  const message = new Uint8Array(5 + text.byteLength)
  new DataView(message.buffer).setInt32(1, 4 + text.byteLength)
  message[0] = 0x51
  message.set(text, 5)
  return message
})()

const pglite = await PGlite.create(dataDir, {
  startParams: [...PGlite.defaultStartParams, ...settings.flatMap((setting) => ['-c', setting])],
})
if (initOnly) {
  // A new data folder: initdb ran in this thread, whose memory (a second PGlite and initdb's own heap)
  // PGlite does not give back; the thread that serves starts afresh on the folder.
  await pglite.close()
}

/**
 * Work for PGlite, one batch of complete messages of one connection at a time. While a connection has a
 * transaction open, only that connection's batches run (as a server would keep other sessions out of it).
 * `bytes` undefined: the connection closed, and a transaction it left open is rolled back.
 * @type {{ connection: Connection, bytes: Uint8Array | undefined }[]}
 */
const queue = []
/** @type {Connection | undefined} */
let lastConnection
let running = false

async function runQueue() {
  if (running) return
  running = true
  try {
    while (queue.length > 0) {
      const inTransaction = lastConnection !== undefined && pglite.isInTransaction()
      const index = inTransaction ? queue.findIndex((work) => work.connection === lastConnection) : 0
      if (index === -1) break // the transaction's owner has not sent its next batch yet
      const [work] = queue.splice(index, 1)
      if (work.bytes === undefined) {
        // A connection that went away inside a transaction leaves nothing half done behind, as on a server.
        if (inTransaction) await pglite.execProtocolRaw(ROLLBACK)
        lastConnection = undefined
        continue
      }
      lastConnection = work.connection
      const answer = await pglite.execProtocolRaw(work.bytes)
      if (answer.byteLength > 0 && !work.connection.isClosed) work.connection.send(answer)
    }
  } finally {
    running = false
  }
}

class Connection {
  /** @param {import('node:worker_threads').MessagePort} port */
  constructor(port) {
    this.port = port
    /** Bytes received that do not yet make a complete message. */
    this.pending = new Uint8Array(0)
    this.started = false
    this.closedAlready = false
    port.on('message', (/** @type {Uint8Array} */ bytes) => this.receive(bytes))
    port.on('close', () => this.closed())
  }

  /** @param {Uint8Array} answer */
  send(answer) {
    this.port.postMessage(answer, [answer.buffer])
  }

  /** @param {Uint8Array} bytes */
  receive(bytes) {
    const data = this.pending.byteLength === 0 ? bytes : concat(this.pending, bytes)
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    let offset = 0
    let batchStart = 0
    while (data.byteLength - offset >= 5 || (!this.started && data.byteLength - offset >= 8)) {
      if (!this.started) {
        // Untyped start-up messages: length, then a code or the protocol version.
        const length = view.getInt32(offset)
        if (data.byteLength - offset < length) break
        const code = view.getInt32(offset + 4)
        if (code === SSL_REQUEST_CODE)
          this.send(new Uint8Array([0x4e])) // 'N': no TLS on a private port
        else if (code !== CANCEL_REQUEST_CODE) {
          this.started = true
          queue.push({ connection: this, bytes: data.slice(offset, offset + length) })
        }
        offset += length
        batchStart = offset
        continue
      }
      const length = 1 + view.getInt32(offset + 1)
      if (data.byteLength - offset < length) break
      if (data[offset] === TERMINATE) break
      offset += length
    }
    if (offset > batchStart) queue.push({ connection: this, bytes: data.slice(batchStart, offset) })
    if (data.byteLength - offset >= 5 && data[offset] === TERMINATE) {
      this.port.close()
      return
    }
    this.pending = data.slice(offset)
    void runQueue().catch(fail)
  }

  get isClosed() {
    return this.closedAlready
  }

  closed() {
    if (this.closedAlready) return
    this.closedAlready = true
    for (let index = queue.length - 1; index >= 0; index -= 1) {
      if (queue[index]?.connection === this) queue.splice(index, 1)
    }
    queue.push({ connection: this, bytes: undefined })
    void runQueue().catch(fail)
  }
}

/** @param {Uint8Array} first @param {Uint8Array} second */
function concat(first, second) {
  const joined = new Uint8Array(first.byteLength + second.byteLength)
  joined.set(first, 0)
  joined.set(second, first.byteLength)
  return joined
}

/** Set by the `close` message: from then on PGlite refusing work is the shutdown, not a failure. */
let shuttingDown = false

/** PGlite failing outside a statement is not recoverable: the thread ends and the gateway sees it exit. */
function fail(/** @type {unknown} */ error) {
  if (shuttingDown) return
  setImmediate(() => {
    throw error
  })
}

parentPort?.on(
  'message',
  async (/** @type {{ type: string, port?: import('node:worker_threads').MessagePort }} */ message) => {
    if (message.type === 'connect' && message.port !== undefined) {
      new Connection(message.port)
    } else if (message.type === 'close') {
      shuttingDown = true
      await pglite.close()
      parentPort?.postMessage({ type: 'closed' })
    }
  },
)
parentPort?.postMessage({ type: initOnly ? 'initialized' : 'ready' })
