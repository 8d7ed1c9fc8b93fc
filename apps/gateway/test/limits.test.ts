import { connect as connectTcp } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

describe('limits', () => {
  let server: TestGateway | undefined
  const clients: TestClient[] = []
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server?.dispose()
  })

  it('refuses the connection over maxConnections with server_full, retryAfterMs and close 4005', async () => {
    server = await startTestGateway({ maxConnections: 2 })
    clients.push(await TestClient.connect(server.started.wsUrl))
    clients.push(await TestClient.connect(server.started.wsUrl))
    const third = await TestClient.open(server.started.wsUrl)
    clients.push(third)
    expect(await third.next('error')).toMatchObject({
      code: 'server_full',
      retryable: true,
      retryAfterMs: expect.any(Number),
    })
    expect((await third.waitClosed()).code).toBe(4005)
    expect(server.gateway.stats().connections).toBe(2)
  })

  it('cuts off a refused connection that never answers the close, instead of holding its socket', async () => {
    server = await startTestGateway({ maxConnections: 1 })
    clients.push(await TestClient.connect(server.started.wsUrl))
    // A raw peer that completes the upgrade, reads everything and never answers the close frame. Refused
    // sockets are outside maxConnections, so without a cut-off each one lingers for ws's 30 s close timeout.
    const { port } = server.started
    const peer = connectTcp(port, '127.0.0.1')
    let received = ''
    peer.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1')
    })
    peer.write(
      [
        'GET /ws HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n'),
    )
    const ended = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000)
      peer.once('close', () => {
        clearTimeout(timer)
        resolve(true)
      })
    })
    peer.destroy()
    expect(ended).toBe(true)
    expect(received).toContain('101 Switching Protocols')
    expect(received).toContain('server_full')
  })

  it('admits a new connection once one under the limit has left', async () => {
    server = await startTestGateway({ maxConnections: 1 })
    const first = await TestClient.connect(server.started.wsUrl)
    first.close()
    await first.waitClosed()
    await expect.poll(() => server?.gateway.stats().connections).toBe(0)
    clients.push(await TestClient.connect(server.started.wsUrl))
  })

  it('refuses subscriptions beyond maxSubscriptions with rate_limited', async () => {
    server = await startTestGateway({ maxSubscriptions: 2 })
    const client = await TestClient.connect(server.started.wsUrl)
    clients.push(client)
    await client.subscribe('a')
    await client.subscribe('b')
    expect(await client.request({ type: 'subscribe', channel: 'c' })).toMatchObject({
      type: 'error',
      code: 'rate_limited',
    })
    await client.subscribe('a')
  })
})
