import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'

/**
 * A TCP load balancer in front of several gateway nodes, with no stickiness: each new connection goes to the
 * first backend in its list that accepts it, so once a node is dead its clients' reconnects land on a live one.
 */
export interface LoadBalancer {
  readonly port: number
  /** `ws://127.0.0.1:<port>/ws` */
  readonly wsUrl: string
  close(): Promise<void>
}

export async function startLoadBalancer(backendPorts: number[]): Promise<LoadBalancer> {
  const sockets = new Set<Socket>()

  const pipeTo = (client: Socket, candidates: number[]) => {
    const [port, ...rest] = candidates
    if (port === undefined || client.destroyed) {
      client.destroy()
      return
    }
    const upstream = tcpConnect(port, '127.0.0.1')
    sockets.add(upstream)
    let connected = false
    upstream.once('connect', () => {
      connected = true
      upstream.setNoDelay(true)
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
    upstream.on('error', () => {
      // Refused: the node is down, try the next one. Once piped, an error ends the client's connection too.
      if (!connected) pipeTo(client, rest)
      else client.destroy()
    })
    upstream.on('close', () => {
      sockets.delete(upstream)
      if (connected) client.destroy()
    })
  }

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    client.setNoDelay(true)
    sockets.add(client)
    client.on('error', () => client.destroy())
    client.on('close', () => sockets.delete(client))
    pipeTo(client, backendPorts)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('load balancer has no TCP address')
  return {
    port: address.port,
    wsUrl: `ws://127.0.0.1:${address.port}/ws`,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
