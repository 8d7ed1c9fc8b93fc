import type { IncomingMessage, ServerResponse } from 'node:http'

/** `GET /health` for the baseline servers, so the bench waits for every target the same way. */
export function healthHandler(connections: () => number) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    if (request.method === 'GET' && request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ status: 'ok', connections: connections() }))
      return
    }
    response.writeHead(404)
    response.end()
  }
}

/** The port comes as the one argument; the servers only ever bind loopback. */
export function portFromArgs(): number {
  const port = Number(process.argv[2])
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write(`usage: <server> <port>, got ${JSON.stringify(process.argv[2])}\n`)
    process.exit(2)
  }
  return port
}
