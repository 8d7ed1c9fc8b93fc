import { createServer, request } from 'node:http'
import { type AddressInfo, connect, type Socket } from 'node:net'

export interface UpgradeProxy {
  /** `ws://127.0.0.1:<port>/ws`: what the client is given. */
  wsUrl: string
  /** Whether WebSocket upgrades pass; refused ones get 403, like a proxy that does not speak WebSocket. */
  allowUpgrades: boolean
  /** Upgrade requests refused so far. */
  refusedUpgrades: number
  close(): Promise<void>
}

/**
 * An HTTP proxy in front of the gateway at `targetPort` (which may go away and come back): plain requests
 * are forwarded, WebSocket upgrades are tunnelled or refused.
 */
export async function startUpgradeProxy(targetPort: number): Promise<UpgradeProxy> {
  const sockets = new Set<Socket>()
  const server = createServer((incoming, outgoing) => {
    const upstream = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
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
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
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
    const cut = () => {
      socket.destroy()
      upstream.destroy()
    }
    upstream.on('error', cut)
    upstream.on('close', cut)
    socket.on('close', cut)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const proxy: UpgradeProxy = {
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    allowUpgrades: true,
    refusedUpgrades: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
  return proxy
}
