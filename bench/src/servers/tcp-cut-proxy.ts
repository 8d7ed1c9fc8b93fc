/**
 * The storm scenario's network: a plain TCP proxy (node:net, bytes piped both ways, nothing parsed) between
 * the subscribers and the server, in its own process. On `cut` it destroys every open pair of sockets at
 * once, as a network failure or a load balancer restart would: both the client and the server see their
 * connection drop. A connection whose server side cannot be opened (the gateway is down) is closed at once,
 * so a client's reconnect attempt fails as it would against the server itself.
 *
 * Forked with IPC: `node tcp-cut-proxy.ts <target port>`; answers `{ type: 'listening', port }`, then
 * `{ type: 'cut', count }` after each `{ type: 'cut' }`. Several run side by side when the connections
 * would need more file descriptors (two per connection) than one process may open.
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'

export type ToProxy = { type: 'cut' }
export type FromProxy = { type: 'listening'; port: number } | { type: 'cut'; count: number }

const targetPort = Number(process.argv[2])
if (!Number.isInteger(targetPort) || targetPort <= 0 || targetPort > 65535 || process.send === undefined) {
  process.stderr.write('usage: forked by the bench with IPC, tcp-cut-proxy.ts <target port>\n')
  process.exit(2)
}
const reply = (message: FromProxy) => process.send?.(message)

/** Open client sockets, each with its server-side twin. */
const pairs = new Map<Socket, Socket>()

const server = createServer({ noDelay: true }, (client) => {
  const upstream = connect({ port: targetPort, host: '127.0.0.1', noDelay: true })
  pairs.set(client, upstream)
  const close = () => {
    pairs.delete(client)
    client.destroy()
    upstream.destroy()
  }
  client.on('error', close)
  client.on('close', close)
  upstream.on('error', close)
  upstream.on('close', close)
  client.pipe(upstream)
  upstream.pipe(client)
})
// A reconnect herd arrives all at once: a backlog that takes it rather than refusing connections.
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  reply({ type: 'listening', port: (server.address() as AddressInfo).port })
})

process.on('message', (message: ToProxy) => {
  if (message.type !== 'cut') return
  const count = pairs.size
  for (const [client, upstream] of pairs) {
    client.destroy()
    upstream.destroy()
  }
  pairs.clear()
  reply({ type: 'cut', count })
})
process.on('disconnect', () => process.exit(0))
