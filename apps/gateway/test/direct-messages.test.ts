import { DeadLetter, DeadLetterPage, RequeueResult, SendResult } from '@parley/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { GatewayConfigInput } from '../src/config.js'
import { mergeConfigInputs } from '../src/env.js'
import { admin, deliveryStats } from './support/delivery-helpers.js'
import { type DeliveryTarget, deliveryTargets, type PreparedTarget } from './support/delivery-targets.js'
import { type FrameOf, TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

type DirectMessage = FrameOf<'direct_message'>

/**
 * Short retry timings so retries happen within a test. The ack timeout is long: a test's recipient that acks
 * or nacks must never miss it on a loaded machine; the tests about ack timeouts set a short one themselves.
 */
const FAST: GatewayConfigInput = {
  delivery: { ackTimeout: 30, retryDelay: 0.1, retryBackoff: 2, maxRetries: 3 },
}

for (const target of deliveryTargets()) {
  describeDirectMessages(target)
}

function describeDirectMessages(target: DeliveryTarget): void {
  describe(`direct messages (${target.label})`, () => {
    let prepared: PreparedTarget
    let server: TestGateway | undefined
    const clients: TestClient[] = []

    async function start(config: GatewayConfigInput = {}): Promise<TestGateway> {
      server = await startTestGateway(mergeConfigInputs(prepared.config, FAST, config), {
        deliveryTimers: { expirySweepMs: 50 },
      })
      return server
    }
    async function connect(clientId: string): Promise<TestClient> {
      const client = await TestClient.connect(server?.started.wsUrl ?? '', { clientId })
      clients.push(client)
      return client
    }
    async function send(
      from: TestClient,
      to: string,
      data: unknown,
      extra: object = {},
    ): Promise<SendResult> {
      return SendResult.parse(await from.ok({ type: 'send', to, data, ...extra }))
    }
    function directs(client: TestClient, deliveryId?: string): DirectMessage[] {
      return client
        .framesOf('direct_message')
        .filter((frame) => deliveryId === undefined || frame.deliveryId === deliveryId)
    }
    async function nthDelivery(client: TestClient, deliveryId: string, attempt: number, timeoutMs = 5_000) {
      return client.waitFor(
        (frame): frame is DirectMessage =>
          frame.type === 'direct_message' && frame.deliveryId === deliveryId && frame.attempt === attempt,
        timeoutMs,
      )
    }
    const arrival = (client: TestClient, frame: object) => client.arrivals.get(frame as DirectMessage) ?? 0

    beforeEach(async () => {
      prepared = await target.prepare()
    })
    afterEach(async () => {
      for (const client of clients.splice(0)) client.close()
      await server?.dispose()
      server = undefined
      await prepared.dispose()
    })

    it('delivers a send to an offline client when it connects, and an ack settles it', async () => {
      await start()
      const sender = await connect('dm-sender')
      const sent = await send(sender, 'dm-offline', { invoice: 7 })
      expect(sent).toMatchObject({ to: 'dm-offline', deliveryId: expect.stringMatching(/^dlv_/) })

      const recipient = await connect('dm-offline')
      const message = await recipient.next('direct_message')
      expect(message).toEqual({
        type: 'direct_message',
        id: sent.id,
        deliveryId: sent.deliveryId,
        attempt: 1,
        from: 'dm-sender',
        data: { invoice: 7 },
        timestamp: sent.timestamp,
      })
      expect(await recipient.ok({ type: 'ack', deliveryIds: [sent.deliveryId] })).toEqual({ settled: 1 })
      expect(await recipient.ok({ type: 'ack', deliveryIds: [sent.deliveryId] })).toEqual({ settled: 0 })
      const stats = await deliveryStats(server as TestGateway)
      expect(stats).toMatchObject({ backend: target.backend, pending: 0, inflight: 0 })
      expect(stats.counters).toMatchObject({ enqueued: 1, delivered: 1, acked: 1, redeliveries: 0 })
    })

    it('redelivers an unacknowledged message after ackTimeout with attempt 2', async () => {
      // Many retries: a loaded machine may let attempt 2 time out too before the ack, never all of them.
      await start({ delivery: { ackTimeout: 0.3, maxRetries: 20 } })
      const sender = await connect('timeout-sender')
      const recipient = await connect('timeout-recipient')
      const sentAt = performance.now()
      const sent = await send(sender, 'timeout-recipient', 'ack me')
      await nthDelivery(recipient, sent.deliveryId, 1)
      const second = await nthDelivery(recipient, sent.deliveryId, 2)
      expect(second).toMatchObject({ id: sent.id, deliveryId: sent.deliveryId, attempt: 2 })
      // ackTimeout 0.3 s after the first send, then the first retry delay of 0.1 s: attempt 2 cannot arrive
      // sooner than 0.4 s after the send was asked for, however late attempt 1 reached the test.
      expect(arrival(recipient, second) - sentAt).toBeGreaterThanOrEqual(395)
      expect(await recipient.ok({ type: 'ack', deliveryIds: [sent.deliveryId] })).toEqual({ settled: 1 })
      // Every attempt sent before the ack was handled arrived before its reply: each but the last timed out.
      const attempts = directs(recipient, sent.deliveryId).map((frame) => frame.attempt)
      expect(attempts).toEqual(attempts.map((_, index) => index + 1))
      expect((await deliveryStats(server as TestGateway)).counters).toMatchObject({
        ackTimeouts: attempts.length - 1,
        redeliveries: attempts.length - 1,
        acked: 1,
      })
    })

    it('retries a nack with delayMs after about that delay', async () => {
      await start()
      const sender = await connect('delay-sender')
      const recipient = await connect('delay-recipient')
      const sent = await send(sender, 'delay-recipient', 'later please')
      await nthDelivery(recipient, sent.deliveryId, 1)
      const nackedAt = performance.now()
      expect(
        await recipient.ok({ type: 'nack', deliveryId: sent.deliveryId, delayMs: 600, reason: 'busy' }),
      ).toEqual({ settled: 1 })
      const retry = await nthDelivery(recipient, sent.deliveryId, 2)
      const waited = arrival(recipient, retry) - nackedAt
      expect(waited).toBeGreaterThanOrEqual(580)
      expect(waited).toBeLessThan(4_000)
    })

    it('spaces retries by retryDelay × retryBackoff^(n-1)', async () => {
      await start({ delivery: { maxRetries: 5, retryDelay: 0.1, retryBackoff: 2 } })
      const sender = await connect('backoff-sender')
      const recipient = await connect('backoff-recipient')
      const sent = await send(sender, 'backoff-recipient', 'keep failing')
      const gaps: number[] = []
      let previous = await nthDelivery(recipient, sent.deliveryId, 1)
      for (let attempt = 2; attempt <= 4; attempt += 1) {
        const nackedAt = performance.now()
        await recipient.ok({ type: 'nack', deliveryId: sent.deliveryId })
        const next = await nthDelivery(recipient, sent.deliveryId, attempt)
        gaps.push(arrival(recipient, next) - nackedAt)
        previous = next
      }
      expect(previous.attempt).toBe(4)
      // 100, 200, 400 ms: lower bounds hold exactly, upper bounds are generous for a busy machine.
      expect(gaps[0]).toBeGreaterThanOrEqual(95)
      expect(gaps[1]).toBeGreaterThanOrEqual(195)
      expect(gaps[2]).toBeGreaterThanOrEqual(395)
      expect(gaps[2] ?? 0).toBeGreaterThan(gaps[0] ?? 0)
      for (const gap of gaps) expect(gap).toBeLessThan(3_000)
    })

    it('dead-letters once after 1 + maxRetries failures, tells the sender, and a requeue delivers it again', async () => {
      // The nack must reach the gateway within the ack timeout, which a loaded machine does within 1 s.
      const running = await start({ delivery: { maxRetries: 1, ackTimeout: 1 } })
      const sender = await connect('dlq-sender')
      const recipient = await connect('dlq-recipient')
      const sent = await send(sender, 'dlq-recipient', { job: 1 }, { receipt: true })
      await nthDelivery(recipient, sent.deliveryId, 1)
      await recipient.ok({ type: 'nack', deliveryId: sent.deliveryId, delayMs: 0, reason: 'first' })
      await nthDelivery(recipient, sent.deliveryId, 2)
      // The second failure is an ack timeout: failures of either kind count.
      const dead = await sender.waitFor((frame) => frame.type === 'receipt' && frame.status === 'dead', 5_000)
      expect(dead).toMatchObject({
        messageId: sent.id,
        deliveryId: sent.deliveryId,
        to: 'dlq-recipient',
        attempt: 2,
      })
      expect(sender.framesOf('receipt').map((receipt) => receipt.status)).toEqual([
        'delivered',
        'delivered',
        'dead',
      ])

      const list = await admin(running, '/api/admin/dlq')
      expect(list.status).toBe(200)
      const page = DeadLetterPage.parse(list.body)
      expect(page.deadLetters).toHaveLength(1)
      expect(page.deadLetters[0]).toMatchObject({
        id: sent.deliveryId,
        messageId: sent.id,
        kind: 'direct',
        recipient: 'dlq-recipient',
        source: 'dlq-sender',
        attempts: 2,
        reason: 'max_retries',
        lastError: 'ack timeout',
      })
      const one = await admin(running, `/api/admin/dlq/${sent.deliveryId}`)
      expect(DeadLetter.parse(one.body).data).toEqual({ job: 1 })
      const stats = await deliveryStats(running)
      expect(stats).toMatchObject({ deadLetters: 1, pending: 0, inflight: 0 })
      expect(stats.counters.deadLettered).toBe(1)

      const requeued = await admin(running, `/api/admin/dlq/${sent.deliveryId}/requeue`, { method: 'POST' })
      expect(requeued.status).toBe(200)
      expect(RequeueResult.parse(requeued.body)).toEqual({ id: sent.deliveryId, requeued: true })
      const again = await nthDelivery(recipient, sent.deliveryId, 3)
      expect(again.data).toEqual({ job: 1 })
      await recipient.ok({ type: 'ack', deliveryIds: [sent.deliveryId] })
      await sender.waitFor((frame) => frame.type === 'receipt' && frame.status === 'acked')
      const after = await deliveryStats(running)
      expect(after).toMatchObject({ deadLetters: 0, pending: 0, inflight: 0 })
      expect(after.counters).toMatchObject({ deadLettered: 1, requeued: 1 })
      const audit = await admin(running, '/api/admin/audit?limit=100')
      const kinds = (audit.body as { events: { kind: string }[] }).events.map((event) => event.kind)
      expect(kinds).toEqual(expect.arrayContaining(['send', 'dead_letter', 'requeue']))
      expect(kinds.filter((kind) => kind === 'dead_letter')).toHaveLength(1)
    })

    it('never delivers a message whose TTL passed, and counts it as expired', async () => {
      // The fresh message must be handed over within its TTL, which a loaded machine does within 1 s.
      const running = await start({ delivery: { messageTtl: 1 } })
      const sender = await connect('ttl-sender')
      const stale = await send(sender, 'ttl-recipient', 'too late', { receipt: true })
      const expired = await sender.waitFor((frame) => frame.type === 'receipt' && frame.status === 'expired')
      expect(expired).toMatchObject({ deliveryId: stale.deliveryId, attempt: 0 })

      const recipient = await connect('ttl-recipient')
      const fresh = await send(sender, 'ttl-recipient', 'on time')
      const received = await recipient.next('direct_message')
      expect(received.deliveryId).toBe(fresh.deliveryId)
      expect(directs(recipient, stale.deliveryId)).toEqual([])
      const stats = await deliveryStats(running)
      expect(stats.counters.expired).toBe(1)
      expect(stats.counters.delivered).toBe(1)
    })

    it('keeps at most maxInflight unacknowledged deliveries at the recipient', async () => {
      const running = await start({ delivery: { maxInflight: 3, ackTimeout: 30 } })
      const sender = await connect('inflight-sender')
      const sent: SendResult[] = []
      for (let n = 0; n < 10; n += 1) sent.push(await send(sender, 'inflight-recipient', n))
      const recipient = await connect('inflight-recipient')
      await recipient.waitUntil(() => directs(recipient).length === 3)
      const stats = await deliveryStats(running)
      expect(stats).toMatchObject({ inflight: 3, pending: 7 })
      expect(directs(recipient)).toHaveLength(3)

      // Each ack makes room for exactly one more, in send order.
      for (let acked = 0; acked < 10; acked += 1) {
        const oldest = directs(recipient)[acked] as DirectMessage
        await recipient.ok({ type: 'ack', deliveryIds: [oldest.deliveryId] })
        const expected = Math.min(10, acked + 4)
        await recipient.waitUntil(() => directs(recipient).length === expected)
        expect(directs(recipient).length - (acked + 1)).toBeLessThanOrEqual(3)
      }
      expect(directs(recipient).map((frame) => frame.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    })

    it('sends delivered and acked receipts to the sender', async () => {
      await start()
      const sender = await connect('receipt-sender')
      const recipient = await connect('receipt-recipient')
      const sent = await send(sender, 'receipt-recipient', 'track me', { receipt: true })
      const message = await recipient.next('direct_message')
      await sender.waitFor((frame) => frame.type === 'receipt' && frame.status === 'delivered')
      recipient.send({ type: 'ack', deliveryIds: [message.deliveryId] })
      const acked = await sender.waitFor((frame) => frame.type === 'receipt' && frame.status === 'acked')
      expect(acked).toMatchObject({
        messageId: sent.id,
        deliveryId: sent.deliveryId,
        to: 'receipt-recipient',
        attempt: 1,
      })
      // Without `receipt`, no receipts.
      await send(sender, 'receipt-recipient', 'quiet')
      await recipient.waitUntil(() => directs(recipient).length === 2)
      expect(sender.framesOf('receipt')).toHaveLength(2)
    })

    it('hands deliveries in flight on a closed connection to the next connection of that client id', async () => {
      const running = await start({ delivery: { ackTimeout: 30 } })
      const sender = await connect('handover-sender')
      const first = await connect('handover')
      const sent = await send(sender, 'handover', 'survive the reconnect')
      await nthDelivery(first, sent.deliveryId, 1)
      first.close()
      await first.waitClosed()
      const second = await connect('handover')
      const again = await nthDelivery(second, sent.deliveryId, 2)
      expect(again).toMatchObject({ id: sent.id, data: 'survive the reconnect' })
      await second.ok({ type: 'ack', deliveryIds: [sent.deliveryId] })
      const stats = await deliveryStats(running)
      expect(stats.counters).toMatchObject({ ackTimeouts: 0, nacked: 0, acked: 1, deadLettered: 0 })
    })

    it('answers a repeated idempotency key with the first delivery, stored once', async () => {
      const running = await start()
      const sender = await connect('idem-sender')
      const first = await send(sender, 'idem-recipient', 'once', { idempotencyKey: 'inv-7' })
      const again = await send(sender, 'idem-recipient', 'once', { idempotencyKey: 'inv-7' })
      expect(again).toEqual({ ...first, duplicate: true })
      const stats = await deliveryStats(running)
      expect(stats.pending).toBe(1)
      expect(stats.counters).toMatchObject({ enqueued: 1, duplicatesSuppressed: 1 })
    })

    it('refuses a send with rate_limited when the recipient has maxPendingPerRecipient waiting', async () => {
      await start({ delivery: { maxPendingPerRecipient: 2 } })
      const sender = await connect('full-sender')
      await send(sender, 'full-recipient', 1)
      await send(sender, 'full-recipient', 2)
      const refused = await sender.request({ type: 'send', to: 'full-recipient', data: 3 })
      expect(refused).toMatchObject({ type: 'error', code: 'rate_limited', retryable: true })
      expect(await sender.ok({ type: 'send', to: 'someone-else', data: 3 })).toMatchObject({
        to: 'someone-else',
      })
    })

    it('ends every message of a mixed ack/nack/silent workload acked or dead-lettered exactly once', async () => {
      const running = await start({
        // The ack timeout only has to expire for the silent 5 %. An acked message is dead-lettered only if its
        // first ack is not handled within both attempts (2 x ackTimeout + retryDelay, over 10 s here), which a
        // loaded machine does not reach; the silent ones then take 10 s.
        delivery: { maxRetries: 1, ackTimeout: 5, retryDelay: 0.05, retryBackoff: 1, maxInflight: 50 },
      })
      const total = 200
      const sender = await connect('pipeline-sender')
      const recipient = await connect('pipeline-recipient')
      // The recipient acks 85 %, nacks 10 % on every attempt and never answers 5 %.
      const fateOf = (n: number) => (n % 20 === 0 ? 'silent' : n % 10 === 1 ? 'nack' : 'ack')
      recipient.socket.on('message', (raw) => {
        const frame = JSON.parse(raw.toString()) as {
          type: string
          deliveryId?: string
          data?: { n: number }
        }
        if (frame.type !== 'direct_message' || frame.deliveryId === undefined || frame.data === undefined)
          return
        const fate = fateOf(frame.data.n)
        if (fate === 'ack') recipient.send({ type: 'ack', deliveryIds: [frame.deliveryId] })
        if (fate === 'nack') recipient.send({ type: 'nack', deliveryId: frame.deliveryId, delayMs: 0 })
      })
      const sends = []
      for (let n = 0; n < total; n += 1) {
        sends.push(send(sender, 'pipeline-recipient', { n }, { receipt: true }))
      }
      const sent = await Promise.all(sends)
      const terminal = () =>
        sender
          .framesOf('receipt')
          .filter((receipt) => receipt.status === 'acked' || receipt.status === 'dead')
      await sender.waitUntil(() => terminal().length >= total, 45_000, 'a final receipt for every message')

      const outcomes = new Map<string, string[]>()
      for (const receipt of terminal()) {
        outcomes.set(receipt.deliveryId, [...(outcomes.get(receipt.deliveryId) ?? []), receipt.status])
      }
      expect(outcomes.size).toBe(total)
      const expectedDead = sent.filter((_, n) => fateOf(n) !== 'ack').map((result) => result.deliveryId)
      for (const [n, result] of sent.entries()) {
        expect(outcomes.get(result.deliveryId), `message ${n}`).toEqual([
          fateOf(n) === 'ack' ? 'acked' : 'dead',
        ])
      }
      const dlq = DeadLetterPage.parse((await admin(running, '/api/admin/dlq?limit=500')).body)
      expect(dlq.deadLetters.map((letter) => letter.id).sort()).toEqual([...expectedDead].sort())
      const stats = await deliveryStats(running)
      expect(stats).toMatchObject({ pending: 0, inflight: 0, deadLetters: expectedDead.length })
      expect(stats.counters.acked).toBe(total - expectedDead.length)
      expect(stats.counters.deadLettered).toBe(expectedDead.length)
      expect(directs(recipient).filter((frame) => frame.attempt > 2)).toEqual([])
    }, 90_000)
  })
}
