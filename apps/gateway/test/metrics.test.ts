import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

/** Reads one unlabelled sample from the Prometheus text format. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

describe('GET /metrics', () => {
  let server: TestGateway
  const clients: TestClient[] = []

  beforeEach(async () => {
    server = await startTestGateway()
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server.dispose()
  })

  async function scrape(): Promise<string> {
    const response = await fetch(`${server.started.url}/metrics`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/plain')
    return response.text()
  }

  it('reports connections, channels, publications, deliveries and invalid frames as they happen', async () => {
    const before = await scrape()
    expect(sample(before, 'parley_connections')).toBe(0)
    expect(sample(before, 'parley_messages_published_total')).toBe(0)

    const publisher = await TestClient.connect(server.started.wsUrl, { clientId: 'metrics-publisher' })
    const first = await TestClient.connect(server.started.wsUrl, { clientId: 'metrics-a' })
    const second = await TestClient.connect(server.started.wsUrl, { clientId: 'metrics-b' })
    clients.push(publisher, first, second)
    await first.subscribe('metrics.news')
    await second.subscribe('metrics.news')
    await publisher.request({ type: 'publish', channel: 'metrics.news', data: { n: 1 } })
    await publisher.request({ type: 'publish', channel: 'metrics.news', data: { n: 2 } })
    publisher.sendRaw('{not json')
    await publisher.next('error')

    const after = await scrape()
    expect(sample(after, 'parley_connections')).toBe(3)
    expect(sample(after, 'parley_channels')).toBe(1)
    expect(sample(after, 'parley_messages_published_total')).toBe(2)
    expect(sample(after, 'parley_messages_delivered_total')).toBe(4)
    expect(sample(after, 'parley_invalid_frames_total')).toBe(1)
    expect(sample(after, 'parley_draining')).toBe(0)
    // Process metrics come from prom-client's defaults.
    expect(after).toContain('process_resident_memory_bytes')
  })

  it('times the calls to each store by store, operation and outcome', async () => {
    const sender = await TestClient.connect(server.started.wsUrl, { clientId: 'metrics-store-sender' })
    clients.push(sender)
    await sender.request({ type: 'send', to: 'metrics-store-nobody', data: 1 })
    const text = await scrape()
    const counts = text
      .split('\n')
      .filter((line) => line.startsWith('parley_store_operation_duration_seconds_count{store="deliveries"'))
    expect(counts.length).toBeGreaterThan(0)
    expect(counts.some((line) => line.includes('outcome="ok"') && Number(line.split(' ').pop()) > 0)).toBe(
      true,
    )
  })

  it('counts a channel in parley_channels only while it has subscribers', async () => {
    const client = await TestClient.connect(server.started.wsUrl, { clientId: 'metrics-leaver' })
    clients.push(client)
    const base = sample(await scrape(), 'parley_channels') ?? 0
    await client.subscribe('metrics.leaving')
    await client.request({ type: 'publish', channel: 'metrics.nobody', data: 1 })
    expect(sample(await scrape(), 'parley_channels')).toBe(base + 1)
    await client.request({ type: 'unsubscribe', channel: 'metrics.leaving' })
    expect(sample(await scrape(), 'parley_channels')).toBe(base)
  })

  it('reports delivery counters and queue gauges as parley_deliveries_*', async () => {
    const sender = await TestClient.connect(server.started.wsUrl, { clientId: 'metrics-sender' })
    const recipient = await TestClient.connect(server.started.wsUrl, { clientId: 'metrics-recipient' })
    clients.push(sender, recipient)
    await sender.request({ type: 'send', to: 'metrics-recipient', data: 1 })
    await sender.request({ type: 'send', to: 'metrics-offline', data: 2 })
    const message = await recipient.next('direct_message')
    const before = await scrape()
    expect(sample(before, 'parley_deliveries_enqueued_total')).toBe(2)
    expect(sample(before, 'parley_deliveries_delivered_total')).toBe(1)
    expect(sample(before, 'parley_deliveries_inflight')).toBe(1)
    expect(sample(before, 'parley_deliveries_pending')).toBe(1)
    await recipient.request({ type: 'ack', deliveryIds: [message.deliveryId] })
    const after = await scrape()
    expect(sample(after, 'parley_deliveries_acked_total')).toBe(1)
    expect(sample(after, 'parley_deliveries_inflight')).toBe(0)
    for (const name of [
      'parley_deliveries_nacked_total',
      'parley_deliveries_redeliveries_total',
      'parley_deliveries_ack_timeouts_total',
      'parley_deliveries_dead_lettered_total',
      'parley_deliveries_expired_total',
      'parley_deliveries_requeued_total',
      'parley_deliveries_duplicates_suppressed_total',
      'parley_deliveries_dead_letters',
      'parley_deliveries_durable_subscriptions',
    ]) {
      expect(sample(after, name), name).toBe(0)
    }
  })

  it('exposes counts only, never client ids or channel names', async () => {
    const client = await TestClient.connect(server.started.wsUrl, { clientId: 'secret-looking-client' })
    clients.push(client)
    await client.subscribe('private.channel')
    const text = await scrape()
    expect(text).not.toContain('secret-looking-client')
    expect(text).not.toContain('private.channel')
  })
})
