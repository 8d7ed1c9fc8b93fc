import { DeadLetter, DeadLetterPage, DeliveryStats, HttpError, PurgeResult } from '@parley/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mergeConfigInputs } from '../src/env.js'
import { admin } from './support/delivery-helpers.js'
import { type DeliveryTarget, deliveryTargets, type PreparedTarget } from './support/delivery-targets.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

for (const target of deliveryTargets()) {
  describeDeliveryAdmin(target)
}

function describeDeliveryAdmin(target: DeliveryTarget): void {
  describe(`delivery admin API (${target.label})`, () => {
    let prepared: PreparedTarget
    let server: TestGateway
    const clients: TestClient[] = []

    async function connect(clientId: string): Promise<TestClient> {
      const client = await TestClient.connect(server.started.wsUrl, { clientId })
      clients.push(client)
      return client
    }

    /** Sends `count` messages to `recipient`, which nacks each: with maxRetries 0 each is dead at once. */
    async function deadLetters(
      sender: TestClient,
      recipient: TestClient,
      recipientId: string,
      count: number,
    ): Promise<string[]> {
      const ids: string[] = []
      for (let n = 0; n < count; n += 1) {
        const sent = await sender.ok({ type: 'send', to: recipientId, data: { n } })
        const deliveryId = String(sent.deliveryId)
        await recipient.waitFor((frame) => frame.type === 'direct_message' && frame.deliveryId === deliveryId)
        expect(await recipient.ok({ type: 'nack', deliveryId, reason: `refused ${n}` })).toEqual({
          settled: 1,
        })
        ids.push(deliveryId)
      }
      return ids
    }

    beforeEach(async () => {
      prepared = await target.prepare()
      server = await startTestGateway(mergeConfigInputs(prepared.config, { delivery: { maxRetries: 0 } }))
    })
    afterEach(async () => {
      for (const client of clients.splice(0)) client.close()
      await server.dispose()
      await prepared.dispose()
    })

    it('reports the backend, queue sizes and counters as DeliveryStats', async () => {
      const { status, body } = await admin(server, '/api/admin/deliveries')
      expect(status).toBe(200)
      expect(DeliveryStats.parse(body)).toEqual({
        backend: target.backend,
        pending: 0,
        inflight: 0,
        deadLetters: 0,
        durableSubscriptions: 0,
        counters: {
          enqueued: 0,
          delivered: 0,
          acked: 0,
          nacked: 0,
          redeliveries: 0,
          ackTimeouts: 0,
          deadLettered: 0,
          expired: 0,
          requeued: 0,
          duplicatesSuppressed: 0,
        },
      })
    })

    it('keeps the requeue history of a dead letter that dies again: requeues, when, attempts of this life', async () => {
      const sender = await connect('history-sender')
      const worker = await connect('history-worker')
      const [id] = await deadLetters(sender, worker, 'history-worker', 1)
      const read = async () => DeadLetter.parse((await admin(server, `/api/admin/dlq/${id}`)).body)
      expect(await read()).toMatchObject({ attempts: 1, requeues: 0, requeuedAt: null, attemptsThisLife: 1 })
      for (const round of [1, 2]) {
        const before = Date.now()
        expect((await admin(server, `/api/admin/dlq/${id}/requeue`, { method: 'POST' })).status).toBe(200)
        await worker.waitFor(
          (frame) =>
            frame.type === 'direct_message' && frame.deliveryId === id && frame.attempt === round + 1,
        )
        await worker.ok({ type: 'nack', deliveryId: id, reason: `refused again ${round}` })
        const dead = await read()
        expect(dead).toMatchObject({ attempts: round + 1, requeues: round, attemptsThisLife: 1 })
        expect(Date.parse(dead.requeuedAt ?? '')).toBeGreaterThanOrEqual(before - 1)
      }
    })

    it('lists, filters, pages, reads, requeues and purges dead letters', async () => {
      const sender = await connect('admin-sender')
      const alpha = await connect('admin-alpha')
      const beta = await connect('admin-beta')
      const alphaIds = await deadLetters(sender, alpha, 'admin-alpha', 3)
      const betaIds = await deadLetters(sender, beta, 'admin-beta', 2)

      const all = DeadLetterPage.parse((await admin(server, '/api/admin/dlq')).body)
      expect(all.deadLetters.map((letter) => letter.id).sort()).toEqual([...alphaIds, ...betaIds].sort())
      expect(all.nextCursor).toBeNull()

      const firstPage = DeadLetterPage.parse((await admin(server, '/api/admin/dlq?limit=2')).body)
      expect(firstPage.deadLetters).toHaveLength(2)
      expect(firstPage.nextCursor).not.toBeNull()
      const rest = DeadLetterPage.parse(
        (
          await admin(
            server,
            `/api/admin/dlq?limit=10&cursor=${encodeURIComponent(firstPage.nextCursor ?? '')}`,
          )
        ).body,
      )
      expect([...firstPage.deadLetters, ...rest.deadLetters].map((letter) => letter.id).sort()).toEqual(
        all.deadLetters.map((letter) => letter.id).sort(),
      )

      const onlyBeta = DeadLetterPage.parse((await admin(server, '/api/admin/dlq?recipient=admin-beta')).body)
      expect(onlyBeta.deadLetters.map((letter) => letter.id).sort()).toEqual([...betaIds].sort())
      const noChannel = DeadLetterPage.parse((await admin(server, '/api/admin/dlq?kind=channel')).body)
      expect(noChannel.deadLetters).toEqual([])

      const one = await admin(server, `/api/admin/dlq/${alphaIds[0]}`)
      expect(one.status).toBe(200)
      expect(DeadLetter.parse(one.body)).toMatchObject({
        id: alphaIds[0],
        kind: 'direct',
        recipient: 'admin-alpha',
        source: 'admin-sender',
        data: { n: 0 },
        attempts: 1,
        reason: 'max_retries',
        lastError: 'refused 0',
      })

      const requeued = await admin(server, `/api/admin/dlq/${alphaIds[1]}/requeue`, { method: 'POST' })
      expect(requeued).toEqual({ status: 200, body: { id: alphaIds[1], requeued: true } })
      await alpha.waitFor(
        (frame) => frame.type === 'direct_message' && frame.deliveryId === alphaIds[1] && frame.attempt === 2,
      )

      const purgedOne = await admin(server, `/api/admin/dlq/${alphaIds[0]}`, { method: 'DELETE' })
      expect(PurgeResult.parse(purgedOne.body)).toEqual({ purged: 1 })
      const purgedAgain = await admin(server, `/api/admin/dlq/${alphaIds[0]}`, { method: 'DELETE' })
      expect(PurgeResult.parse(purgedAgain.body)).toEqual({ purged: 0 })
      const purgedBeta = await admin(server, '/api/admin/dlq?recipient=admin-beta', { method: 'DELETE' })
      expect(PurgeResult.parse(purgedBeta.body)).toEqual({ purged: 2 })
      const left = DeadLetterPage.parse((await admin(server, '/api/admin/dlq')).body)
      expect(left.deadLetters.map((letter) => letter.id)).toEqual([alphaIds[2]])
      const purgedAll = await admin(server, '/api/admin/dlq', { method: 'DELETE' })
      expect(PurgeResult.parse(purgedAll.body)).toEqual({ purged: 1 })
    })

    it('answers 404 for unknown dead letters and 400 for a bad query or cursor', async () => {
      for (const [path, method] of [
        ['/api/admin/dlq/dlv_unknown', 'GET'],
        ['/api/admin/dlq/dlv_unknown/requeue', 'POST'],
      ] as const) {
        const { status, body } = await admin(server, path, { method })
        expect(status, path).toBe(404)
        expect(HttpError.parse(body).error.code).toBe('not_found')
      }
      for (const path of ['/api/admin/dlq?cursor=not-a-cursor', '/api/admin/dlq?kind=teleport&limit=9000']) {
        const { status, body } = await admin(server, path)
        expect(status, path).toBe(400)
        expect(HttpError.parse(body).error.code).toBe('bad_request')
      }
    })
  })
}
