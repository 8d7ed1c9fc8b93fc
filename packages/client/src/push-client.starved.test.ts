// A process that did not run for a while (a starved host, a laptop waking, a reconnect herd on shared cores)
// runs its expired timers before it reads what its sockets received meanwhile. These tests stop the whole
// process (the scripted server runs in it too) right after the server sent what the client waits for, past the
// client's timeout: the client must take what is already there instead of giving the connection up.
import { describe, expect, it } from 'vitest'
import { useFixtures } from './test-support/fixtures.js'
import { record } from './test-support/next-event.js'

const fixtures = useFixtures()

/** Keeps this process from running anything else for `ms`, as a host that does not schedule it would. */
function stall(ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) {
    // Busy: no timer, no socket read, no callback runs meanwhile.
  }
}

/** After the handler that sent a frame has returned (so the frame is written), stalls the process. */
function stallAfterThisHandler(ms: number): void {
  queueMicrotask(() => stall(ms))
}

describe('PushClient after its process did not run past a timeout', () => {
  it('takes a welcome that arrived while it did not run, rather than dropping the attempt', async () => {
    const server = await fixtures.server({
      onHello: () => {
        stallAfterThisHandler(600)
        return false
      },
    })
    const client = fixtures.client(server.url, { connectTimeoutMs: 300, reconnect: { initialDelayMs: 10 } })
    const reconnecting = record(client, 'reconnecting')

    await client.connect()

    expect(reconnecting).toEqual([])
    expect(server.connections.size).toBe(1)
  })

  it('takes a reply that arrived while it did not run, rather than failing the request', async () => {
    const server = await fixtures.server({
      onRequest: (_connection, frame) => {
        if (frame.type === 'subscribe') stallAfterThisHandler(600)
        return false
      },
    })
    const client = fixtures.client(server.url, { requestTimeoutMs: 300 })
    await client.connect()

    await expect(client.subscribe('news')).resolves.toMatchObject({ channel: 'news' })
  })

  it('reads the pings that arrived while it did not run before it calls the link silent', async () => {
    // 200 ms heartbeats: the link counts as silent after 500 ms without a frame.
    const server = await fixtures.server({ heartbeatIntervalMs: 200 })
    const client = fixtures.client(server.url)
    const disconnects = record(client, 'disconnect')
    await client.connect()
    const [connection] = server.welcomed()
    if (connection === undefined) throw new Error('no welcomed connection')
    // The gateway's pings, every 50 ms; a ping is sent, then the process stalls for longer than the limit.
    const pinger = setInterval(() => connection.send({ type: 'ping', ts: Date.now() }), 50)
    try {
      connection.send({ type: 'ping', ts: Date.now() })
      stall(700)
      // Four more pings' time: each stall of the process is followed by the pings sent in it.
      await new Promise((resolve) => setTimeout(resolve, 200))
    } finally {
      clearInterval(pinger)
    }

    expect(disconnects).toEqual([])
    expect(client.state).toBe('connected')
  })
})
