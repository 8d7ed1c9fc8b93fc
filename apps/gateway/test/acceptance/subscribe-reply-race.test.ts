import type { AddressInfo } from 'node:net'
import { PushClient } from '@parley/client'
import { afterEach, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { createConditions } from './support/conditions.js'

/**
 * Regression test of a client bug found while writing the acceptance tests. A live `channel_message` that
 * arrives in the same TCP chunk as a subscribe's reply reaches the handler before the reply's continuation
 * runs; that continuation used to set the channel's position back to the reply's offset, so the next
 * resubscribe sent an older `since`, the gateway replayed the message, and the handler ran twice.
 * The gateway does send live frames right behind the reply. A raw `ws` server sends the two frames in one
 * turn so the race happens every time.
 */

const WELCOME = {
  type: 'welcome',
  protocol: 1,
  sessionId: 'session-1',
  connectionId: 'connection-1',
  clientId: 'race-client',
  heartbeatIntervalMs: 30_000,
  limits: { maxPayload: 1_048_576, maxSubscriptions: 100 },
  features: [],
  server: { name: 'race-reproduction', version: '0.0.0' },
}
const MESSAGE_11 = {
  type: 'channel_message',
  channel: 'race',
  id: 'msg_11',
  source: 'publisher',
  data: 11,
  timestamp: 1,
  offset: 11,
  epoch: 'ep_1',
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

it('a live message in the same chunk as the subscribe reply runs the handler once, also after a reconnect', async () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())))
  await new Promise((resolve) => server.once('listening', resolve))
  server.on('connection', (socket) => {
    socket.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as { type: string; id?: string; since?: { offset: number } }
      if (frame.type === 'hello') socket.send(JSON.stringify(WELCOME))
      if (frame.type !== 'subscribe') return
      if (frame.since === undefined) {
        // The reply, then at once the next publication, live: one chunk on the wire.
        socket.send(
          JSON.stringify({
            type: 'reply',
            id: frame.id,
            result: { channel: 'race', offset: 10, epoch: 'ep_1' },
          }),
        )
        socket.send(JSON.stringify(MESSAGE_11))
        return
      }
      // A recovering subscribe: replay what comes after `since`, as the gateway does.
      const replayed = frame.since.offset < 11 ? 1 : 0
      if (replayed === 1) socket.send(JSON.stringify(MESSAGE_11))
      socket.send(
        JSON.stringify({
          type: 'reply',
          id: frame.id,
          result: { channel: 'race', offset: 11, epoch: 'ep_1', recovered: true, replayed },
        }),
      )
    })
  })

  const conditions = createConditions()
  const port = (server.address() as AddressInfo).port
  const client = new PushClient(`ws://127.0.0.1:${port}/ws`, {
    reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
  })
  cleanups.push(() => client.close())
  const handled: string[] = []
  let resubscribed = 0
  client.on('channel_message', (message) => {
    handled.push(message.id)
    conditions.changed()
  })
  client.on('subscribed', (info) => {
    if (info.wasRecovering) resubscribed += 1
    conditions.changed()
  })
  await client.connect()
  await client.subscribe('race')
  await conditions.until(() => handled.length === 1, 5_000, 'message 11 handled')

  for (const socket of server.clients) socket.terminate()
  await conditions.until(() => resubscribed === 1, 5_000, 'the automatic resubscribe')
  expect(handled).toEqual(['msg_11'])
})
