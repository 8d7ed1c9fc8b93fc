import { connect as connectTcp } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { FILE_DESCRIPTOR_RESERVE, type ProcessResources } from '../src/transport/connection-capacity.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

/** A process that may open `reserve + connections` files, its heap at `heap.used` of 1000 bytes. */
function smallProcess(connections: number, heap = { used: 0 }): ProcessResources {
  return {
    fileDescriptorLimit: () => FILE_DESCRIPTOR_RESERVE + connections,
    heap: () => ({ usedBytes: heap.used, limitBytes: 1000 }),
  }
}

describe('limits', () => {
  let server: TestGateway | undefined
  const clients: TestClient[] = []
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server?.dispose()
  })

  /** Opens one more connection: it must get a retryable `server_full` error, then close 4005. */
  async function expectRefusedAsFull(gateway: TestGateway) {
    const refused = await TestClient.open(gateway.started.wsUrl)
    clients.push(refused)
    const error = await refused.next('error')
    expect(error).toMatchObject({ code: 'server_full', retryable: true, retryAfterMs: expect.any(Number) })
    expect((await refused.waitClosed()).code).toBe(4005)
    return error
  }

  it('refuses the connection over maxConnections with server_full, retryAfterMs and close 4005', async () => {
    server = await startTestGateway({ maxConnections: 2 })
    clients.push(await TestClient.connect(server.started.wsUrl))
    clients.push(await TestClient.connect(server.started.wsUrl))
    await expectRefusedAsFull(server)
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

  it('refuses the connection the open-file limit cannot hold with server_full and 4005, and keeps serving', async () => {
    // maxConnections allows 1000, the descriptors only 2.
    server = await startTestGateway({ maxConnections: 1000 }, { resources: smallProcess(2) })
    const first = await TestClient.connect(server.started.wsUrl)
    const second = await TestClient.connect(server.started.wsUrl)
    clients.push(first, second)
    await expectRefusedAsFull(server)
    expect(server.gateway.stats().connections).toBe(2)

    // The admitted connections still work, and a freed place is taken again.
    await first.subscribe('capacity')
    expect(await second.request({ type: 'publish', channel: 'capacity', data: { n: 1 } })).toMatchObject({
      type: 'reply',
    })
    expect(await first.next('channel_message')).toMatchObject({ channel: 'capacity', data: { n: 1 } })
    second.close()
    await second.waitClosed()
    await expect.poll(() => server?.gateway.stats().connections).toBe(1)
    clients.push(await TestClient.connect(server.started.wsUrl))
    const health = await fetch(`${server.started.url}/health`)
    expect(health.status).toBe(200)
  })

  it('refuses new connections with server_full while the heap is under pressure, and admits them after', async () => {
    const heap = { used: 0 }
    server = await startTestGateway({}, { resources: smallProcess(100, heap) })
    const admitted = await TestClient.connect(server.started.wsUrl)
    clients.push(admitted)
    heap.used = 950
    expect(await expectRefusedAsFull(server)).toMatchObject({ message: 'the gateway is short of memory' })
    heap.used = 100
    clients.push(await TestClient.connect(server.started.wsUrl))
    expect(server.gateway.stats().connections).toBe(2)
    expect(await admitted.request({ type: 'subscribe', channel: 'still-here' })).toMatchObject({
      type: 'reply',
    })
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
