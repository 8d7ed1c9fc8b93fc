import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'

/**
 * A TCP proxy in front of the gateway, so a test can cut connections the way a network does (both sides
 * reset, nothing said at the WebSocket level) and hold new connections back, as a path that is still down.
 */
export interface TcpProxy {
  readonly port: number
  /** `ws://127.0.0.1:<port>/ws` */
  readonly wsUrl: string
  /** Connections currently piped through to the gateway. */
  readonly openConnections: number
  /**
   * Resets `count` piped connections (both sides), chosen with `random`; all of them without a count.
   * Returns how many were cut.
   */
  cut(count?: number, random?: () => number): number
  /**
   * Drops what the gateway sends on the open connections while requests still go through: replies are
   * lost, as on a link that failed one way. The gateway closing the connection still closes it.
   */
  stallReplies(): void
  /**
   * The open connections go silent both ways without a close or a reset, as when a mobile network or a NAT
   * drops a flow: neither side hears anything more, and neither is told, not even when the client gives up
   * and closes its side.
   */
  blackhole(): void
  /** New connections are accepted but not piped until `release()`: the path to the gateway is down. */
  hold(): void
  /** Pipes the held connections through and stops holding. */
  release(): void
  close(): Promise<void>
}

interface Pair {
  client: Socket
  upstream: Socket | undefined
  /** Blackholed: the client's close is not passed on either, so the gateway's side stays silently open. */
  silent?: boolean
}

export interface TcpProxyOptions {
  upstreamHost?: string
  /** Called after a connection is piped through or goes away, so a test can re-check `openConnections`. */
  onChange?: () => void
}

export async function startTcpProxy(upstreamPort: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const { upstreamHost = '127.0.0.1', onChange } = options
  const pairs = new Set<Pair>()
  const held: Pair[] = []
  /** Gateway sides of blackholed connections, left open until the gateway drops them or the proxy closes. */
  const silenced = new Set<Socket>()
  let holding = false

  const destroy = (pair: Pair, reset: boolean) => {
    if (!pairs.delete(pair)) return
    if (onChange !== undefined) queueMicrotask(onChange)
    const upstream = pair.upstream
    if (pair.silent === true && upstream !== undefined && !upstream.destroyed) {
      silenced.add(upstream)
      upstream.once('close', () => silenced.delete(upstream))
    }
    for (const socket of pair.silent === true ? [pair.client] : [pair.client, pair.upstream]) {
      if (socket === undefined || socket.destroyed) continue
      if (reset) socket.resetAndDestroy()
      else socket.destroy()
    }
  }

  const pipeThrough = (pair: Pair) => {
    if (pair.client.destroyed) return
    const upstream = tcpConnect(upstreamPort, upstreamHost)
    pair.upstream = upstream
    upstream.setNoDelay(true)
    pair.client.pipe(upstream)
    upstream.pipe(pair.client)
    upstream.on('error', () => destroy(pair, true))
    upstream.on('close', () => destroy(pair, false))
    pair.client.resume()
    onChange?.()
  }

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    client.setNoDelay(true)
    const pair: Pair = { client, upstream: undefined }
    pairs.add(pair)
    client.on('error', () => destroy(pair, true))
    client.on('close', () => destroy(pair, false))
    if (holding) held.push(pair)
    else pipeThrough(pair)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address')
  const port = address.port

  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    get openConnections() {
      let open = 0
      for (const pair of pairs) if (pair.upstream !== undefined) open += 1
      return open
    },
    cut(count, random = Math.random) {
      const piped = [...pairs].filter((pair) => pair.upstream !== undefined)
      // Fisher-Yates with the given random source, then cut the first `count`.
      for (let index = piped.length - 1; index > 0; index -= 1) {
        const other = Math.floor(random() * (index + 1))
        ;[piped[index], piped[other]] = [piped[other] as Pair, piped[index] as Pair]
      }
      const victims = piped.slice(0, count ?? piped.length)
      for (const pair of victims) destroy(pair, true)
      return victims.length
    },
    stallReplies() {
      for (const pair of pairs) {
        if (pair.upstream === undefined) continue
        pair.upstream.unpipe(pair.client)
        pair.upstream.on('data', () => {})
        pair.upstream.resume()
      }
    },
    blackhole() {
      for (const pair of pairs) {
        if (pair.upstream === undefined) continue
        pair.silent = true
        pair.client.unpipe(pair.upstream)
        pair.upstream.unpipe(pair.client)
        for (const socket of [pair.client, pair.upstream]) {
          socket.on('data', () => {})
          socket.resume()
        }
      }
    },
    hold() {
      holding = true
    },
    release() {
      holding = false
      for (const pair of held.splice(0)) pipeThrough(pair)
    },
    async close() {
      for (const pair of [...pairs, ...held]) destroy(pair, true)
      for (const socket of [...silenced]) socket.resetAndDestroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
