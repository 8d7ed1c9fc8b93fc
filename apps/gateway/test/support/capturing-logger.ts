import { Writable } from 'node:stream'
import { pino } from 'pino'

/** A logger at the most verbose level whose every line the test can search as one text. */
export function capturingLogger() {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString())
      done()
    },
  })
  return { logger: pino({ level: 'trace' }, destination), text: () => lines.join('') }
}
