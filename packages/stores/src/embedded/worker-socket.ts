import { Duplex } from 'node:stream'
import type { MessagePort } from 'node:worker_threads'

/**
 * One connection to the embedded database's thread, shaped as the `postgres` driver's custom `socket`: a
 * duplex stream of wire-protocol bytes over a MessagePort, with the `readyState` the driver reads. No
 * file or network port is opened, so nothing else on the machine can reach the database.
 */
export class WorkerSocket extends Duplex {
  constructor(private readonly port: MessagePort) {
    super()
    port.on('message', (bytes: Uint8Array) => {
      this.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    })
    // The thread closed its end (or ended): the stream ends, and the driver sees the connection close.
    port.on('close', () => {
      this.push(null)
      this.destroy()
    })
  }

  get readyState(): 'open' | 'closed' {
    return this.destroyed ? 'closed' : 'open'
  }

  override _read(): void {
    // Bytes are pushed as the thread sends them.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // A copy of just these bytes, moved rather than cloned: the driver's buffers are slices of larger ones.
    const bytes = new Uint8Array(chunk)
    this.port.postMessage(bytes, [bytes.buffer])
    callback()
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.port.close()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.port.close()
    callback(error)
  }
}
