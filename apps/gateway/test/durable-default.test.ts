import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PublishResult, SendResult, SubscribeResult } from '@parley/protocol'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { createGateway, type Gateway, type StartedGateway } from '../src/create-gateway.js'
import { TestClient } from './support/test-client.js'
import { TEST_ADMIN_TOKEN } from './support/test-gateway.js'

// What `pnpm start` runs: no store injected and the default configuration, but for the port and data folder.
describe('a gateway on the default configuration', () => {
  let dataDir: string
  const gateways: Gateway[] = []
  const clients: TestClient[] = []

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-durable-default-'))
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    for (const gateway of gateways.splice(0)) await gateway.stop({ drainTimeoutMs: 1_000 })
    await rm(dataDir, { recursive: true, force: true })
  })

  async function start(): Promise<{ gateway: Gateway; started: StartedGateway }> {
    const config = parseConfig({ port: 0, dataDir })
    const gateway = createGateway({ config, logger: pino({ level: 'silent' }), adminToken: TEST_ADMIN_TOKEN })
    gateways.push(gateway)
    return { gateway, started: await gateway.start() }
  }
  async function connect(started: StartedGateway, clientId: string): Promise<TestClient> {
    const client = await TestClient.connect(started.wsUrl, { clientId })
    clients.push(client)
    return client
  }

  it('keeps deliveries and history in its embedded database', () => {
    expect(parseConfig({}).delivery.storeBackend).toBe('postgres')
    expect(parseConfig({}).databaseUrl).toBeUndefined()
  })

  it('still delivers a queued direct message and still has the channel history after a restart on the same data folder', async () => {
    const first = await start()
    const sender = await connect(first.started, 'restart-sender')
    const sent = SendResult.parse(
      await sender.ok({ type: 'send', to: 'restart-recipient', data: { invoice: 7 } }),
    )
    const published = PublishResult.parse(
      await sender.ok({ type: 'publish', channel: 'c.durable', data: 'before the restart' }),
    )
    sender.close()
    await first.gateway.stop({ drainTimeoutMs: 1_000 })

    const second = await start()
    const recipient = await connect(second.started, 'restart-recipient')
    expect(await recipient.next('direct_message')).toMatchObject({
      id: sent.id,
      deliveryId: sent.deliveryId,
      from: 'restart-sender',
      data: { invoice: 7 },
    })
    const subscribed = SubscribeResult.parse(
      await recipient.ok({
        type: 'subscribe',
        channel: 'c.durable',
        since: { offset: 0, epoch: published.epoch ?? '' },
      }),
    )
    expect(subscribed).toMatchObject({ recovered: true, epoch: published.epoch, offset: published.offset })
    expect(
      recipient.framesOf('channel_message').map((frame) => [frame.channel, frame.offset, frame.data]),
    ).toEqual([['c.durable', published.offset, 'before the restart']])
  })
})
