import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'

/**
 * How the link between the gateway and a server behaves:
 * - `pass`: bytes go through untouched;
 * - `reset`: every open connection is reset (RST on both sides) and new ones are refused (the proxy
 *   stops listening until the mode changes), as when a firewall or a failing link cuts them;
 * - `close`: every open connection is closed cleanly (FIN on both sides) and new ones are refused, as
 *   when the server shuts down or restarts;
 * - `blackhole`: connections stay open (new ones are accepted) but nothing goes through in either
 *   direction and nothing is answered, as when packets are dropped on the way; what was sent is held
 *   and goes through once the link is back, as TCP retransmits it (unless a side gave up and closed);
 * - `slow`: every chunk is delayed by `slowDelayMs` in both directions, order kept.
 */
export type FaultMode = 'pass' | 'reset' | 'close' | 'blackhole' | 'slow'

/** A TCP proxy the test puts between the gateway and a real server (PostgreSQL, Redis) to inject faults. */
export interface FaultProxy {
  readonly port: number
  readonly host: string
  readonly mode: FaultMode
  /** Connections accepted so far (reset ones included): a client that reconnects makes this grow. */
  readonly accepted: number
  /** Switches the link to `mode`; `reset` resets every open connection at once. */
  setMode(mode: FaultMode): void
  /** Resets every connection and stops listening. */
  close(): Promise<void>
}

export interface FaultProxyOptions {
  /** Delay of each chunk in `slow` mode; default 200 ms. */
  slowDelayMs?: number
}

interface Link {
  client: Socket
  upstream: Socket
  /** Releases what each direction held back during a blackhole. */
  flushers: (() => void)[]
}

/** Starts a proxy on 127.0.0.1:0 in `pass` mode, forwarding to `upstreamHost:upstreamPort`. */
export async function startFaultProxy(
  upstreamPort: number,
  upstreamHost = '127.0.0.1',
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const slowDelayMs = options.slowDelayMs ?? 200
  const links = new Set<Link>()
  let mode: FaultMode = 'pass'
  let accepted = 0

  const reset = (link: Link) => {
    links.delete(link)
    for (const socket of [link.client, link.upstream]) {
      if (!socket.destroyed) socket.resetAndDestroy()
    }
  }
  const refusing = () => mode === 'reset' || mode === 'close'

  // One direction of a link: what `from` sends reaches `to` according to the mode at the time it arrives.
  const forward = (link: Link, from: Socket, to: Socket) => {
    let slowChain = Promise.resolve()
    const held: Buffer[] = []
    const deliver = (chunk: Buffer) => {
      if (mode === 'slow') {
        slowChain = slowChain.then(
          () =>
            new Promise<void>((resolve) => {
              setTimeout(() => {
                if (!to.destroyed) to.write(chunk)
                resolve()
              }, slowDelayMs)
            }),
        )
      } else if (!to.destroyed) {
        to.write(chunk)
      }
    }
    from.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole') held.push(chunk)
      else deliver(chunk)
    })
    link.flushers.push(() => {
      for (const chunk of held.splice(0)) deliver(chunk)
    })
  }

  const server: Server = createServer((client) => {
    accepted += 1
    if (refusing()) {
      // Accepted just before the listener closed.
      client.on('error', () => {})
      client.resetAndDestroy()
      return
    }
    client.setNoDelay(true)
    const upstream = tcpConnect(upstreamPort, upstreamHost)
    upstream.setNoDelay(true)
    const link: Link = { client, upstream, flushers: [] }
    links.add(link)
    const closeBoth = () => {
      if (!links.delete(link)) return
      client.destroy()
      upstream.destroy()
    }
    client.on('error', () => reset(link))
    upstream.on('error', () => reset(link))
    // A half-close from one side ends the other side too; in blackhole mode nothing is said.
    client.on('end', () => {
      if (mode !== 'blackhole') closeBoth()
    })
    upstream.on('end', () => {
      if (mode !== 'blackhole') closeBoth()
    })
    client.on('close', closeBoth)
    upstream.on('close', closeBoth)
    forward(link, client, upstream)
    forward(link, upstream, client)
  })
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  await listen(0)
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('fault proxy has no TCP address')
  const port = address.port
  // Listening again after a reset, on the same port; `setMode` is synchronous, so this is awaited on close.
  let relistening: Promise<void> = Promise.resolve()

  return {
    port,
    host: '127.0.0.1',
    get mode() {
      return mode
    },
    get accepted() {
      return accepted
    },
    setMode(next) {
      const wasBlackhole = mode === 'blackhole'
      const wasRefusing = refusing()
      mode = next
      if (next === 'reset') for (const link of [...links]) reset(link)
      if (next === 'close') {
        for (const link of [...links]) {
          links.delete(link)
          link.client.destroy()
          link.upstream.destroy()
        }
      }
      if (refusing() && !wasRefusing) server.close()
      else if (wasRefusing && !refusing()) relistening = listen(port)
      if (wasBlackhole && next !== 'blackhole')
        for (const link of links) for (const flush of link.flushers) flush()
    },
    async close() {
      await relistening
      for (const link of [...links]) reset(link)
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** The URL `url` (postgres://, redis://) with its host and port replaced by the proxy's. */
export function throughProxy(url: string, proxy: FaultProxy): string {
  const parsed = new URL(url)
  parsed.hostname = proxy.host
  parsed.port = String(proxy.port)
  return parsed.toString()
}
