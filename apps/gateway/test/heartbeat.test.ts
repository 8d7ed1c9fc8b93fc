import { afterEach, describe, expect, it } from 'vitest'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

describe('heartbeats', () => {
  let server: TestGateway | undefined
  const clients: TestClient[] = []
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server?.dispose()
  })

  // 0.5 s: a loaded machine keeps the client's next frame (its subscribe, a pong) within two intervals.
  it('pings a silent client, then reaps it with 4004 and drops its subscriptions', async () => {
    server = await startTestGateway({ heartbeatInterval: 0.5 })
    const silent = await TestClient.connect(server.started.wsUrl, { clientId: 'silent' })
    clients.push(silent)
    await silent.subscribe('pings')
    // The raw client never answers the protocol-level ping frames.
    expect(await silent.next('ping')).toMatchObject({ type: 'ping', ts: expect.any(Number) })
    expect((await silent.waitClosed()).code).toBe(4004)

    const publisher = await TestClient.connect(server.started.wsUrl)
    clients.push(publisher)
    const answer = await publisher.request({ type: 'publish', channel: 'pings', data: 1 })
    expect(answer).toMatchObject({ type: 'reply', result: { delivered: 0 } })
    expect(server.gateway.stats().reaped).toBe(1)
  })

  it('keeps a client that answers pings connected past several intervals', async () => {
    server = await startTestGateway({ heartbeatInterval: 0.5 })
    const lively = await TestClient.connect(server.started.wsUrl)
    clients.push(lively)
    lively.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; ts?: number }
      if (frame.type === 'ping') lively.send({ type: 'pong', ts: frame.ts })
    })
    // Each ping follows an interval of silence, so three pings outlast the two-interval reaping threshold.
    await lively.waitFor(() => lively.frames.filter((frame) => frame.type === 'ping').length >= 3, 15_000)
    expect(lively.readyState).toBe(lively.socket.OPEN)
  })

  it('reads the frames that arrived while its process did not run before it reaps anyone', async () => {
    server = await startTestGateway({ heartbeatInterval: 0.5 })
    const client = await TestClient.connect(server.started.wsUrl)
    clients.push(client)
    // The request is written at once; then the whole process (the gateway runs in it) stalls for three
    // intervals, past the two-interval reaping threshold, as a host that does not schedule it would.
    const answer = client.request({ type: 'publish', channel: 'stalled', data: 1 })
    const end = Date.now() + 1_500
    while (Date.now() < end) {
      // Busy: no timer, no socket read, no callback runs meanwhile.
    }

    expect(await answer).toMatchObject({ type: 'reply', result: { delivered: 0 } })
    expect(client.readyState).toBe(client.socket.OPEN)
    expect(server.gateway.stats().reaped).toBe(0)
  })
})
