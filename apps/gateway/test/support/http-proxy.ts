import { createServer, type IncomingMessage, request } from 'node:http'
import { type AddressInfo, connect, type Socket } from 'node:net'

export interface TestProxyOptions {
  /** Whether WebSocket upgrades pass. Can be changed while running. */
  allowUpgrades?: boolean
  /**
   * What a refused upgrade gets: `forbidden` (an HTTP 403, the default), `drop` (the connection is cut) or
   * `hang` (never answered, the connection held open).
   */
  upgradeRefusal?: 'forbidden' | 'drop' | 'hang'
  /**
   * Called for each HTTP request; true means: forward it, read the gateway's whole answer, then destroy the
   * client's socket instead of answering (a response lost on the way).
   */
  dropResponse?: (request: IncomingMessage) => boolean
}

/**
 * A `dropResponse` rule losing every `n`th answer to `path` (the 5th, 10th, ...): a loss rate fixed by count,
 * so a test that makes at least k·n such requests sees at least k losses however the machine schedules it.
 */
export function dropEveryNth(path: string, n: number): (request: IncomingMessage) => boolean {
  let seen = 0
  return (request) => {
    if (request.url !== path) return false
    seen += 1
    return seen % n === 0
  }
}

export interface TestProxy {
  /** `http://127.0.0.1:<port>` */
  url: string
  /** `ws://127.0.0.1:<port>/ws` */
  wsUrl: string
  allowUpgrades: boolean
  /** Answers read from the gateway and thrown away. */
  dropped: number
  /** Upgrade requests refused. */
  refusedUpgrades: number
  /** Cuts every open WebSocket tunnel (the clients see their connection drop). */
  cutTunnels(): void
  close(): Promise<void>
}

/**
 * A TCP/HTTP proxy in front of a gateway, for tests of what sits between client and gateway in real
 * networks: proxies that refuse WebSocket upgrades, and answers lost on the way.
 */
export async function startTestProxy(targetPort: number, options: TestProxyOptions = {}): Promise<TestProxy> {
  const sockets = new Set<Socket>()
  const tunnels = new Set<Socket>()
  const server = createServer((incoming, outgoing) => {
    const drop = options.dropResponse?.(incoming) ?? false
    const upstream = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        if (drop) {
          answer.resume()
          answer.once('end', () => {
            proxy.dropped += 1
            incoming.socket.destroy()
          })
          return
        }
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
      },
    )
    upstream.on('error', () => incoming.socket.destroy())
    incoming.pipe(upstream)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.on('upgrade', (incoming, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    if (!proxy.allowUpgrades) {
      proxy.refusedUpgrades += 1
      const refusal = options.upgradeRefusal ?? 'forbidden'
      if (refusal === 'forbidden') {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      } else if (refusal === 'drop') {
        socket.destroy()
      } else {
        // Held open without an answer until the client gives up (or the proxy closes).
        tunnels.add(socket)
        socket.once('close', () => tunnels.delete(socket))
      }
      return
    }
    const upstream = connect(targetPort, '127.0.0.1', () => {
      const lines = [`${incoming.method} ${incoming.url} HTTP/1.1`]
      for (let index = 0; index < incoming.rawHeaders.length; index += 2) {
        lines.push(`${incoming.rawHeaders[index]}: ${incoming.rawHeaders[index + 1]}`)
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`)
      if (head.length > 0) upstream.write(head)
      socket.pipe(upstream).pipe(socket)
    })
    tunnels.add(socket)
    const cut = () => {
      tunnels.delete(socket)
      socket.destroy()
      upstream.destroy()
    }
    upstream.on('error', cut)
    upstream.on('close', cut)
    socket.on('close', cut)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const proxy: TestProxy = {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    allowUpgrades: options.allowUpgrades ?? true,
    dropped: 0,
    refusedUpgrades: 0,
    cutTunnels() {
      for (const socket of [...tunnels]) socket.destroy()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        for (const socket of tunnels) socket.destroy()
        server.close(() => resolve())
      }),
  }
  return proxy
}
