import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

const MAX_PAYLOAD = 4096

describe('invalid input on a connection', () => {
  let server: TestGateway
  const clients: TestClient[] = []
  const connect = async () => {
    const client = await TestClient.connect(server.started.wsUrl)
    clients.push(client)
    return client
  }
  /** The connection still works: a publish is answered and delivered. */
  const expectUsable = async (client: TestClient) => {
    await client.subscribe('still.works')
    const answer = await client.request({ type: 'publish', channel: 'still.works', data: 'ok' })
    expect(answer).toMatchObject({ type: 'reply', result: { delivered: 1 } })
    expect(await client.next('channel_message')).toMatchObject({ data: 'ok' })
  }

  beforeEach(async () => {
    // The default handshake timeout: a loaded machine may take longer than a short one between open and hello.
    server = await startTestGateway({ maxPayload: MAX_PAYLOAD })
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server.dispose()
  })

  it('answers malformed JSON with invalid_json and keeps the connection usable', async () => {
    const client = await connect()
    client.sendRaw('{"type": "publish", oops')
    expect(await client.next('error')).toMatchObject({ code: 'invalid_json', retryable: false })
    await expectUsable(client)
  })

  it('answers an unknown frame type with unknown_type carrying the request id, and stays usable', async () => {
    const client = await connect()
    client.send({ type: 'teleport', id: 'x1' })
    expect(await client.next('error')).toMatchObject({ code: 'unknown_type', id: 'x1' })
    await expectUsable(client)
  })

  it('answers wrong field types with invalid_frame naming the field, and stays usable', async () => {
    const client = await connect()
    client.send({ type: 'publish', id: 'x2', channel: 42, data: 'x' })
    expect(await client.next('error')).toMatchObject({
      code: 'invalid_frame',
      id: 'x2',
      message: expect.stringContaining('channel'),
    })
    await expectUsable(client)
  })

  it('answers a binary frame with invalid_frame and stays usable', async () => {
    const client = await connect()
    client.sendRaw(Buffer.from([1, 2, 3]), { binary: true })
    expect(await client.next('error')).toMatchObject({ code: 'invalid_frame' })
    await expectUsable(client)
  })

  it('refuses a frame over maxPayload with payload_too_large and keeps the connection', async () => {
    const client = await connect()
    const data = 'x'.repeat(MAX_PAYLOAD + 1)
    client.send({ type: 'publish', id: 'big', channel: 'still.works', data })
    expect(await client.next('error')).toMatchObject({ code: 'payload_too_large', retryable: false })
    await expectUsable(client)
  })

  it('lets the transport close with 1009 a frame over four times maxPayload', async () => {
    const client = await connect()
    client.sendRaw('x'.repeat(4 * MAX_PAYLOAD + 1))
    expect((await client.waitClosed()).code).toBe(1009)
  })

  it('requires hello first, then refuses a second hello with invalid_state', async () => {
    const client = await TestClient.open(server.started.wsUrl)
    clients.push(client)
    client.send({ type: 'subscribe', id: 's1', channel: 'early' })
    expect(await client.next('error')).toMatchObject({ code: 'handshake_required', id: 's1' })
    expect(await client.hello()).toMatchObject({ type: 'welcome' })
    expect(await client.hello()).toMatchObject({ type: 'error', code: 'invalid_state' })
    await expectUsable(client)
  })

  it('refuses a hello without a common protocol version with unsupported_protocol and close 4003', async () => {
    const client = await TestClient.open(server.started.wsUrl)
    clients.push(client)
    expect(await client.hello({ protocol: { min: 7, max: 9 } })).toMatchObject({
      type: 'error',
      code: 'unsupported_protocol',
    })
    expect((await client.waitClosed()).code).toBe(4003)
  })

  it('closes a connection that sends no hello within the handshake timeout with 4002', async () => {
    await server.dispose()
    server = await startTestGateway({ maxPayload: MAX_PAYLOAD, handshakeTimeout: 0.2 })
    const client = await TestClient.open(server.started.wsUrl)
    clients.push(client)
    expect((await client.waitClosed()).code).toBe(4002)
  })
})

describe('data the gateway cannot re-encode', () => {
  let server: TestGateway
  afterEach(async () => {
    await server.dispose()
  })

  it('answers publish and broadcast of too deeply nested data with a non-retryable invalid_frame', async () => {
    server = await startTestGateway()
    const client = await TestClient.connect(server.started.wsUrl)
    await client.subscribe('deep')
    // Valid JSON that parses, but nests deeper than JSON.stringify can recurse.
    const deep = `${'['.repeat(400_000)}${']'.repeat(400_000)}`
    client.sendRaw(`{"type":"publish","id":"deep-publish","channel":"deep","data":${deep}}`)
    client.sendRaw(`{"type":"broadcast","id":"deep-broadcast","data":${deep}}`)
    for (const id of ['deep-publish', 'deep-broadcast']) {
      expect(await client.waitFor((frame) => frame.type === 'error' && frame.id === id)).toMatchObject({
        code: 'invalid_frame',
        retryable: false,
      })
    }
    const answer = await client.request({ type: 'publish', channel: 'deep', data: [[1]] })
    expect(answer).toMatchObject({ type: 'reply', result: { delivered: 1 } })
    client.close()
  })
})
