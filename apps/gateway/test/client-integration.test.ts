import { PushClient, TimeoutError, type WelcomeInfo } from '@parley/client'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

const AUTH_TOKEN = 'client-integration-token'
const FAST_RECONNECT = { initialDelayMs: 50, maxDelayMs: 250 }

/** Resolves on the client's next `connect` event, or rejects after the timeout. */
function nextConnect(client: PushClient, timeoutMs = 15_000): Promise<WelcomeInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reconnect within ${timeoutMs} ms`)), timeoutMs)
    const listener = (info: WelcomeInfo) => {
      clearTimeout(timer)
      client.off('connect', listener)
      resolve(info)
    }
    client.on('connect', listener)
  })
}

describe('PushClient against a real gateway', () => {
  const servers: TestGateway[] = []
  const clients: PushClient[] = []
  const client = (clientId: string) => {
    const created = new PushClient(servers[0]?.started.wsUrl ?? '', {
      authToken: AUTH_TOKEN,
      clientId,
      reconnect: FAST_RECONNECT,
    })
    clients.push(created)
    return created
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((created) => created.close()))
    for (const server of servers.splice(0)) await server.dispose()
  })

  it('two PushClients exchange a message through a channel', async () => {
    servers.push(await startTestGateway({ authToken: AUTH_TOKEN }))
    const alice = client('alice')
    const bob = client('bob')
    await Promise.all([alice.connect(), bob.connect()])
    await bob.subscribe('pair.chat')
    const received = bob.waitFor('pair.chat', { timeout: 5_000 })
    const receipt = await alice.publish('pair.chat', { text: 'hello bob' })
    expect(receipt.delivered).toBe(1)
    expect(await received).toMatchObject({
      channel: 'pair.chat',
      data: { text: 'hello bob' },
      source: 'alice',
      id: receipt.id,
    })
  })

  it('waitFor rejects with TimeoutError when nothing arrives', async () => {
    servers.push(await startTestGateway({ authToken: AUTH_TOKEN }))
    const lonely = client('lonely')
    await lonely.connect()
    await expect(lonely.waitFor('quiet.channel', { timeout: 100 })).rejects.toBeInstanceOf(TimeoutError)
  })

  it('reconnects after the gateway restarts on the same port and is subscribed again without user code', async () => {
    const first = await startTestGateway({ authToken: AUTH_TOKEN })
    servers.push(first)
    const listener = client('listener')
    await listener.connect()
    await listener.subscribe('restart.news')

    const reconnected = nextConnect(listener)
    await first.gateway.stop()
    const second = await startTestGateway({ authToken: AUTH_TOKEN, port: first.started.port })
    servers.push(second)
    await reconnected

    const publisher = new PushClient(second.started.wsUrl, { authToken: AUTH_TOKEN, clientId: 'publisher' })
    clients.push(publisher)
    await publisher.connect()
    const received = listener.waitFor('restart.news', { timeout: 5_000 })
    const receipt = await publisher.publish('restart.news', 'back online')
    expect(receipt.delivered).toBe(1)
    expect(await received).toMatchObject({ data: 'back online', source: 'publisher' })
  })
})
