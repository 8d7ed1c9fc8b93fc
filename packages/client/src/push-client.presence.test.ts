import type { ClientFrame } from '@parley/protocol'
import { describe, expect, it } from 'vitest'
import { useFixtures } from './test-support/fixtures.js'
import { nextEvent } from './test-support/next-event.js'
import type { ScriptedConnection } from './test-support/scripted-server.js'

const fixtures = useFixtures()

const ANA = {
  clientId: 'ana',
  principal: 'pk_ana',
  status: 'busy',
  metadata: { task: 'summarising' },
  lastSeen: 1_763_780_000_000,
  connections: 1,
}

/** Answers presence requests as the gateway does: the status echoed, a fixed list. */
function answerPresence(connection: ScriptedConnection, frame: ClientFrame): boolean {
  if (frame.type === 'presence_set') {
    connection.send({
      type: 'reply',
      id: frame.id,
      result: { status: frame.status, metadata: frame.metadata ?? {} },
    })
    return true
  }
  if (frame.type === 'presence_get') {
    connection.send({
      type: 'reply',
      id: frame.id,
      result: {
        ...(frame.channel === undefined ? {} : { channel: frame.channel }),
        clients: [ANA],
        principals: [
          { principal: 'pk_ana', status: 'busy', clients: ['ana'], connections: 1, lastSeen: ANA.lastSeen },
        ],
      },
    })
    return true
  }
  return false
}

describe('PushClient presence', () => {
  it('setStatus sends presence_set with the status and metadata and resolves with what the gateway stored', async () => {
    const server = await fixtures.server({ onRequest: answerPresence })
    const client = fixtures.client(server.url)
    await client.connect()
    const sent = server.nextFrame((frame) => frame.type === 'presence_set')

    const receipt = await client.setStatus('busy', { task: 'summarising' })

    expect((await sent).frame).toMatchObject({
      type: 'presence_set',
      status: 'busy',
      metadata: { task: 'summarising' },
    })
    expect(receipt).toEqual({ status: 'busy', metadata: { task: 'summarising' } })
  })

  it('setStatus refuses a malformed status before sending anything', async () => {
    const server = await fixtures.server({ onRequest: answerPresence })
    const client = fixtures.client(server.url)
    await client.connect()
    await expect(client.setStatus('on holiday')).rejects.toMatchObject({ code: 'bad_request' })
    const connection = server.welcomed()[0]
    expect(connection?.frames.some((frame) => frame.type === 'presence_set')).toBe(false)
  })

  it('getPresence asks for a channel, resolves with the list and emits it as presence_list', async () => {
    const server = await fixtures.server({ onRequest: answerPresence })
    const client = fixtures.client(server.url)
    await client.connect()
    const emitted = nextEvent(client, 'presence_list')

    const list = await client.getPresence('room.42')

    expect(list.channel).toBe('room.42')
    expect(list.clients).toEqual([ANA])
    expect(list.principals[0]).toMatchObject({ principal: 'pk_ana', connections: 1 })
    expect(await emitted).toEqual(list)
    const connection = server.welcomed()[0]
    expect(connection?.frames.find((frame) => frame.type === 'presence_get')).toMatchObject({
      channel: 'room.42',
    })
  })

  it('emits a presence event for each presence frame', async () => {
    const server = await fixtures.server()
    const client = fixtures.client(server.url)
    await client.connect()
    const event = nextEvent(client, 'presence')
    server.welcomed()[0]?.send({ type: 'presence', channel: 'room.42', event: 'join', client: ANA })
    expect(await event).toEqual({ channel: 'room.42', event: 'join', client: ANA })
  })
})
