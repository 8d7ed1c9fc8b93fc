/**
 * Run as a child process by `push-client.exit.test.ts`: puts a client in a given state, calls `close()`, and
 * then does nothing. The process must exit on its own, which it can only do when the client left no timer,
 * socket or listener behind.
 * Usage (after bundling): node close-and-exit.mjs <ws url> <scenario>
 */
import { PushClient } from '../push-client.js'

const [url, scenario] = process.argv.slice(2)
if (url === undefined) throw new Error('usage: close-and-exit.ts <url> <scenario>')
const client = new PushClient(url, {
  reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
  requestTimeoutMs: 60_000,
})

switch (scenario) {
  case 'busy': {
    // Connected, subscribed, a request the server leaves unanswered and a long waitFor in flight.
    await client.connect()
    await client.subscribe('news')
    void client.waitFor('news', { timeout: 60_000 }).catch(() => undefined)
    void client.waitFor('quiet', { timeout: 60_000 }).catch(() => undefined)
    void client.publish('unanswered', 1).catch(() => undefined)
    break
  }
  case 'reconnecting': {
    // The test stops the gateway once `news` is subscribed: the client is waiting for its next attempt when
    // it is closed.
    const reconnecting = new Promise<void>((resolve) => client.on('reconnecting', () => resolve()))
    await client.connect()
    void client.waitFor('news', { timeout: 60_000 }).catch(() => undefined)
    await reconnecting
    break
  }
  case 'unresponsive': {
    // The test stops reading the socket on the gateway's side once it sent `go`: the closing handshake is
    // never answered.
    await client.connect()
    await client.waitFor('go', { timeout: 5_000 })
    break
  }
  case 'silent': {
    // The gateway never pings (and the test stops reading the first connection): the client drops it as dead
    // and reconnects, then is closed.
    const dropped = new Promise<void>((resolve) => client.on('disconnect', () => resolve()))
    await client.connect()
    await dropped
    await new Promise<void>((resolve) => client.on('connect', () => resolve()))
    break
  }
  default:
    throw new Error(`unknown scenario ${scenario}`)
}
await client.close()
process.stdout.write(`closed in state ${client.state}\n`)
