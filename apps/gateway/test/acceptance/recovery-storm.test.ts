import { PushClient, type SubscribedInfo } from '@parley/client'
import { afterEach, describe, expect, it } from 'vitest'
import { createConditions } from './support/conditions.js'
import { type InProcessGateway, seededRandom, startInProcessGateway } from './support/in-process-gateway.js'
import { type PublishStream, publishStream } from './support/publisher.js'
import { StreamRecorder } from './support/stream-recorder.js'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js'

/**
 * Acceptance test of channel recovery under load: many subscribers lose their connections over and over
 * while publishers keep publishing, and every one of them must end up with every publication exactly once.
 * The subscribers reach the gateway through a TCP proxy whose sockets the test resets, as a network would.
 */

// The acceptance numbers; tune the publication rate (PUBLISH_WINDOW), not these.
const SUBSCRIBERS = 200
const CHANNELS = 5
const CHANNELS_PER_SUBSCRIBER = 2
const CUTS = 20
/** Publishes in flight per channel: sets the publication rate while the cuts happen. */
const PUBLISH_WINDOW = 2

const RECONNECT = { initialDelayMs: 20, maxDelayMs: 300 }
const CLIENT_TIMEOUTS = { requestTimeoutMs: 30_000, connectTimeoutMs: 30_000 }
const WAIT_MS = 30_000

const channelName = (index: number) => `storm.${index}`

describe('recovery storm', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function startGateway(
    config: Parameters<typeof startInProcessGateway>[0],
  ): Promise<InProcessGateway> {
    const gateway = await startInProcessGateway(config)
    cleanups.push(() => gateway.dispose())
    return gateway
  }

  async function startProxy(port: number): Promise<TcpProxy> {
    const proxy = await startTcpProxy(port)
    cleanups.push(() => proxy.close())
    return proxy
  }

  function newClient(url: string, clientId: string): PushClient {
    const client = new PushClient(url, { clientId, reconnect: RECONNECT, ...CLIENT_TIMEOUTS })
    cleanups.push(() => client.close())
    return client
  }

  it(`${SUBSCRIBERS} subscribers on ${CHANNELS} channels recover from ${CUTS} network cuts with every ` +
    'resubscribe recovered, no gap and no duplicate', async () => {
    // History far larger than what the test publishes: every resubscribe is inside retention.
    const { started } = await startGateway({ history: { size: 1_000_000, ttl: 3600 } })
    const proxy = await startProxy(started.port)
    const conditions = createConditions()

    const recorders: StreamRecorder[] = []
    const channelsOf = (index: number) =>
      Array.from({ length: CHANNELS_PER_SUBSCRIBER }, (_, k) => channelName((index + k) % CHANNELS))
    for (let index = 0; index < SUBSCRIBERS; index += 1) {
      const client = newClient(proxy.wsUrl, `storm-subscriber-${index}`)
      recorders.push(new StreamRecorder(client, { onChange: conditions.changed }))
    }
    await Promise.all(recorders.map((recorder) => recorder.client.connect()))
    await Promise.all(
      recorders.flatMap((recorder, index) =>
        channelsOf(index).map((channel) => recorder.client.subscribe(channel)),
      ),
    )

    // Publishers connect straight to the gateway: they keep publishing through every cut.
    const publishers: PublishStream[] = []
    for (let index = 0; index < CHANNELS; index += 1) {
      const client = newClient(started.wsUrl, `storm-publisher-${index}`)
      await client.connect()
      publishers.push(
        publishStream(client, {
          channel: channelName(index),
          window: PUBLISH_WINDOW,
          keyPrefix: `storm-${index}-`,
          onAck: conditions.changed,
        }),
      )
    }
    const publishedSoFar = () => publishers.reduce((sum, publisher) => sum + publisher.acked.size, 0)

    const random = seededRandom(20_251_122)
    const allConnected = () =>
      proxy.openConnections === SUBSCRIBERS && recorders.every((recorder) => recorder.connected)
    const disconnects = () => recorders.reduce((sum, recorder) => sum + recorder.disconnects, 0)
    let connectionsCut = 0
    for (let cut = 1; cut <= CUTS; cut += 1) {
      await conditions.until(allConnected, WAIT_MS, () => `all subscribers connected before cut ${cut}`)
      // Let some publications go out between cuts, so each cut has live traffic around it.
      const published = publishedSoFar()
      await conditions.until(() => publishedSoFar() >= published + 4 * CHANNELS, WAIT_MS, 'publishing')
      const before = disconnects()
      // Every fifth cut takes the whole network down, the others a random half of the connections.
      const count = proxy.cut(cut % 5 === 0 ? undefined : SUBSCRIBERS / 2, random)
      connectionsCut += count
      await conditions.until(
        () => disconnects() === before + count,
        WAIT_MS,
        () => `the ${count} subscribers of cut ${cut} noticed it (${disconnects() - before} did)`,
      )
    }
    await conditions.until(allConnected, WAIT_MS, 'all subscribers connected after the last cut')

    await Promise.all(publishers.map((publisher) => publisher.stop()))
    expect(publishers.flatMap((publisher) => publisher.failures)).toEqual([])
    const finalOffsets = publishers.map((publisher) => publisher.lastOffset)

    const caughtUp = () =>
      recorders.every((recorder, index) =>
        channelsOf(index).every(
          (channel) =>
            recorder.channels.get(channel)?.lastOffset ===
            finalOffsets[Number(channel.slice('storm.'.length))],
        ),
      )
    await conditions.until(caughtUp, WAIT_MS, () => {
      const behind = recorders.filter((recorder, index) =>
        channelsOf(index).some(
          (channel) =>
            recorder.channels.get(channel)?.lastOffset !==
            finalOffsets[Number(channel.slice('storm.'.length))],
        ),
      )
      return `every subscriber caught up with offsets ${finalOffsets.join(', ')} (${behind.length} behind)`
    })

    // One summary, so a failure shows every kind of breakage at once.
    const problems = { gaps: [] as string[], duplicates: [] as string[], missed: [] as string[] }
    const notRecovered: SubscribedInfo[] = []
    let resubscribes = 0
    let replayed = 0
    for (const [index, recorder] of recorders.entries()) {
      for (const channel of channelsOf(index)) {
        const record = recorder.record(channel)
        const final = finalOffsets[Number(channel.slice('storm.'.length))] ?? 0
        const where = `subscriber ${index} on ${channel}`
        if (record.startOffset === undefined) throw new Error(`${where}: no subscribe position`)
        if (record.calls > 0 && record.firstOffset !== record.startOffset + 1) {
          problems.gaps.push(
            `${where}: first message ${record.firstOffset} after position ${record.startOffset}`,
          )
        }
        for (const broken of record.breaks) {
          problems.gaps.push(
            `${where}: ${broken.offset} after ${broken.previous}${broken.replayed ? ' (replayed)' : ''}`,
          )
        }
        for (const id of recorder.duplicates(channel)) problems.duplicates.push(`${where}: ${id}`)
        if (record.calls !== final - record.startOffset) {
          problems.missed.push(
            `${where}: ${record.calls} handler calls for offsets ${record.startOffset + 1}-${final}`,
          )
        }
      }
      for (const info of recorder.resubscribes()) {
        resubscribes += 1
        replayed += info.replayed
        if (!info.recovered) notRecovered.push(info)
      }
    }
    expect(problems).toEqual({ gaps: [], duplicates: [], missed: [] })
    expect(notRecovered).toEqual([])
    // Each cut connection resubscribed its channels with `since` (more when a cut hit a resubscribe).
    expect(resubscribes).toBeGreaterThanOrEqual(connectionsCut * CHANNELS_PER_SUBSCRIBER)
    // Every subscribe after the first one of each channel sent `since`: the client's own resubscribes recover.
    const withoutSince = recorders.map((recorder) =>
      recorder.subscribed.filter((info) => !info.wasRecovering),
    )
    expect(withoutSince.filter((infos) => infos.length !== CHANNELS_PER_SUBSCRIBER)).toEqual([])
    // The cuts happened while publishing: the recoveries had something to replay.
    expect(replayed).toBeGreaterThan(0)
    expect(
      recorders.every((recorder) => [...recorder.channels.values()].every((r) => r.epochChanges === 0)),
    ).toBe(true)
  }, 120_000)
})
