import { PROTOCOL_VERSION, SendResult, SubscribeResult } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { GatewayConfigInput } from '../../src/config.js'
import {
  connectFrameClient,
  type FrameClient,
  openFrameClient,
  type TransportName,
} from '../support/frame-client.js'
import type { FrameOf } from '../support/test-client.js'
import { startTestGateway, type TestGateway } from '../support/test-gateway.js'

const MAX_PAYLOAD = 4096
const AUTH_TOKEN = 'conformance-token-0123456789'

/**
 * The protocol, written once against the frame-level client API and run over every transport: a poll
 * session must behave exactly like a WebSocket connection.
 */
describe.each(['websocket', 'polling'] as const)(
  'protocol conformance over %s',
  (transport: TransportName) => {
    let server: TestGateway | undefined
    const clients: FrameClient[] = []

    async function start(config: GatewayConfigInput = {}): Promise<TestGateway> {
      server = await startTestGateway({ maxPayload: MAX_PAYLOAD, ...config })
      return server
    }
    function urls() {
      if (server === undefined) throw new Error('no gateway')
      return server.started
    }
    async function open(): Promise<FrameClient> {
      const client = await openFrameClient(transport, urls())
      clients.push(client)
      return client
    }
    async function connect(hello: { clientId?: string; token?: string } = {}): Promise<FrameClient> {
      const client = await connectFrameClient(transport, urls(), hello)
      clients.push(client)
      return client
    }
    /** The connection still works: a publish is answered and delivered back to it. */
    async function expectUsable(client: FrameClient): Promise<void> {
      await client.subscribe('still.works')
      const answer = await client.request({ type: 'publish', channel: 'still.works', data: 'ok' })
      expect(answer).toMatchObject({ type: 'reply', result: { delivered: 1 } })
      expect(await client.next('channel_message')).toMatchObject({ channel: 'still.works', data: 'ok' })
    }

    afterEach(async () => {
      for (const client of clients.splice(0)) client.close()
      await server?.dispose()
      server = undefined
    })

    it('welcomes a hello and names the transport in the welcome', async () => {
      await start()
      const client = await open()
      const welcome = await client.hello({ clientId: `conf-${transport}` })
      expect(welcome).toMatchObject({
        type: 'welcome',
        clientId: `conf-${transport}`,
        sessionId: expect.stringMatching(/^ses_/),
        connectionId: expect.stringMatching(/^con_/),
        transport,
      })
    })

    it('refuses a wrong token with unauthorized and closes with 4001', async () => {
      await start({ authToken: AUTH_TOKEN })
      const client = await open()
      const answer = await client.hello({ token: 'wrong-token-0123456789' })
      expect(answer).toMatchObject({ type: 'error', code: 'unauthorized' })
      expect((await client.waitClosed()).code).toBe(4001)
    })

    it('admits the right token', async () => {
      await start({ authToken: AUTH_TOKEN })
      const client = await open()
      expect(await client.hello({ token: AUTH_TOKEN })).toMatchObject({ type: 'welcome', transport })
    })

    it('requires hello before any other frame', async () => {
      await start()
      const client = await open()
      client.send({ type: 'subscribe', id: 's1', channel: 'early' })
      expect(await client.next('error')).toMatchObject({ code: 'handshake_required', id: 's1' })
      expect(await client.hello()).toMatchObject({ type: 'welcome' })
      await expectUsable(client)
    })

    it('handles a hello and a subscribe sent back to back in order: welcome, then the reply', async () => {
      await start()
      const client = await open()
      client.sendTexts(
        JSON.stringify({ type: 'hello', id: 'h1', protocol: { min: 1, max: PROTOCOL_VERSION } }),
        JSON.stringify({ type: 'subscribe', id: 's1', channel: 'at.once' }),
      )
      const reply = await client.waitFor((frame) => 'id' in frame && frame.id === 's1')
      expect(reply).toMatchObject({ type: 'reply', id: 's1' })
      const answers = client.frames.filter(
        (frame) => 'id' in frame && (frame.id === 'h1' || frame.id === 's1'),
      )
      expect(answers.map((frame) => frame.type)).toEqual(['welcome', 'reply'])
      await expectUsable(client)
    })

    it('handles nothing sent behind a refused hello', async () => {
      await start({ authToken: AUTH_TOKEN })
      const client = await open()
      client.sendTexts(
        JSON.stringify({
          type: 'hello',
          id: 'h1',
          protocol: { min: 1, max: PROTOCOL_VERSION },
          auth: { token: 'wrong-token-0123456789' },
        }),
        JSON.stringify({ type: 'broadcast', id: 'b1', data: 'sneaked in' }),
      )
      expect((await client.waitClosed()).code).toBe(4001)
      expect(client.frames.map((frame) => frame.type)).toEqual(['error'])
      expect(server?.gateway.stats().broadcasts).toBe(0)
    })

    it('answers invalid JSON with invalid_json and stays usable', async () => {
      await start()
      const client = await connect()
      client.sendText('{"type": "publish", oops')
      expect(await client.next('error')).toMatchObject({ code: 'invalid_json', retryable: false })
      await expectUsable(client)
    })

    it('answers an unknown frame type with unknown_type carrying the id, and stays usable', async () => {
      await start()
      const client = await connect()
      client.send({ type: 'teleport', id: 'x1' })
      expect(await client.next('error')).toMatchObject({ code: 'unknown_type', id: 'x1' })
      await expectUsable(client)
    })

    it('answers wrong field types with invalid_frame naming the field, and stays usable', async () => {
      await start()
      const client = await connect()
      client.send({ type: 'publish', id: 'x2', channel: 42, data: 'x' })
      expect(await client.next('error')).toMatchObject({
        code: 'invalid_frame',
        id: 'x2',
        message: expect.stringContaining('channel'),
      })
      await expectUsable(client)
    })

    it('refuses a frame over maxPayload with payload_too_large and stays usable', async () => {
      await start()
      const client = await connect()
      client.send({ type: 'publish', id: 'big', channel: 'still.works', data: 'x'.repeat(MAX_PAYLOAD + 1) })
      expect(await client.next('error')).toMatchObject({ code: 'payload_too_large' })
      await expectUsable(client)
    })

    it('delivers a publication to another subscribed client', async () => {
      await start()
      const subscriber = await connect({ clientId: 'conf-sub' })
      const publisher = await connect({ clientId: 'conf-pub' })
      await subscriber.subscribe('room.a')
      const result = await publisher.ok({ type: 'publish', channel: 'room.a', data: { n: 1 } })
      expect(result).toMatchObject({ delivered: 1 })
      expect(await subscriber.next('channel_message')).toMatchObject({
        channel: 'room.a',
        data: { n: 1 },
        source: 'conf-pub',
      })
    })

    it('replays publications missed since an offset when subscribing with since', async () => {
      await start()
      const publisher = await connect()
      const first = await publisher.ok({ type: 'publish', channel: 'room.replay', data: 'one' })
      for (const data of ['two', 'three'])
        await publisher.ok({ type: 'publish', channel: 'room.replay', data })
      const late = await connect()
      const answer = await late.ok({
        type: 'subscribe',
        channel: 'room.replay',
        since: { offset: 1, epoch: first.epoch },
      })
      expect(SubscribeResult.parse(answer)).toMatchObject({ offset: 3, recovered: true, replayed: 2 })
      expect(late.framesOf('channel_message').map((frame) => frame.data)).toEqual(['two', 'three'])
    })

    it('hands a broadcast to every connected client', async () => {
      await start()
      const sender = await connect()
      const receiver = await connect()
      const result = await sender.ok({ type: 'broadcast', data: 'to all' })
      expect(result).toMatchObject({ delivered: 2 })
      expect(await receiver.next('broadcast_message')).toMatchObject({ data: 'to all' })
    })

    it('delivers a direct send, settles it with ack, and redelivers it when not acknowledged', async () => {
      await start({ delivery: { storeBackend: 'memory', ackTimeout: 0.3, retryDelay: 0.1, maxRetries: 3 } })
      const sender = await connect({ clientId: `dm-sender-${transport}` })
      const recipient = await connect({ clientId: `dm-recipient-${transport}` })
      const sent = SendResult.parse(
        await sender.ok({ type: 'send', to: `dm-recipient-${transport}`, data: { job: 1 } }),
      )
      const isAttempt = (attempt: number) => (frame: FrameOf<'direct_message'> | { type: string }) =>
        frame.type === 'direct_message' &&
        (frame as FrameOf<'direct_message'>).deliveryId === sent.deliveryId &&
        (frame as FrameOf<'direct_message'>).attempt === attempt
      expect(await recipient.waitFor(isAttempt(1))).toMatchObject({
        data: { job: 1 },
        from: `dm-sender-${transport}`,
      })
      // Not acknowledged: it comes again after ackTimeout.
      expect(await recipient.waitFor(isAttempt(2))).toMatchObject({ data: { job: 1 } })
      expect(await recipient.ok({ type: 'ack', deliveryIds: [sent.deliveryId] })).toEqual({ settled: 1 })
      expect(await recipient.ok({ type: 'ack', deliveryIds: [sent.deliveryId] })).toEqual({ settled: 0 })
    })

    it('answers a ping with a pong', async () => {
      await start()
      const client = await connect()
      client.send({ type: 'ping', id: 'p1', ts: 123 })
      expect(await client.next('pong')).toMatchObject({ type: 'pong' })
    })

    // 0.5 s: a loaded machine keeps the client's next frame (a pong) within two intervals.
    it('pings a quiet client and keeps it while it answers, past several heartbeat intervals', async () => {
      await start({ heartbeatInterval: 0.5 })
      const client = await connect()
      const answered = new Set<number>()
      await client.waitUntil(
        () => {
          for (const frame of client.framesOf('ping')) {
            if (answered.has(frame.ts)) continue
            answered.add(frame.ts)
            client.send({ type: 'pong', ts: frame.ts })
          }
          return answered.size >= 3
        },
        15_000,
        'three pings',
      )
      await expectUsable(client)
    })

    it('reaps a client that stops answering with 4004', async () => {
      await start({ heartbeatInterval: 0.5 })
      const client = await connect()
      expect(await client.next('ping')).toMatchObject({ type: 'ping' })
      expect((await client.waitClosed(10_000)).code).toBe(4004)
    })

    it('sends shutdown and closes with 1001 when the gateway drains', async () => {
      const gateway = await start()
      const client = await connect()
      const stopping = gateway.gateway.stop({ drainTimeoutMs: 5_000 })
      expect(await client.next('shutdown')).toMatchObject({
        type: 'shutdown',
        reconnectAfterMs: expect.any(Number),
      })
      expect((await client.waitClosed()).code).toBe(1001)
      await stopping
    })
  },
)
