import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ChannelMessage, PushClient } from '@parley/client'
import { createTestDatabase, type TestDatabase, testServerUrl } from '@parley/stores/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConditions } from './support/conditions.js'
import { freePort, type GatewayProcess, startGatewayProcess } from './support/gateway-process.js'
import { type PublishStream, publishStream } from './support/publisher.js'
import { StreamRecorder, streamProblems } from './support/stream-recorder.js'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js'

/**
 * Crash test: a gateway on the postgres backend is SIGKILLed in the middle of a stream of publishes and
 * started again on the same port and database. Every publish it acknowledged must reach the subscriber's
 * handler exactly once, in offset order, and the subscriber's automatic resubscribe must recover.
 */

const CHANNEL = 'crash.stream'
const PUBLICATIONS = 10_000
const PUBLISH_WINDOW = 50
const CRASH_AFTER_ACKS = 3_000
/** Publications acknowledged by the restarted gateway before the subscriber's path comes back. */
const PUBLISHED_WHILE_SUBSCRIBER_AWAY = 500
/** Publishes in flight at the crash that the gateway commits but whose replies are lost. */
const UNANSWERED_AT_CRASH = 25
const WAIT_MS = 90_000

const serverUrl = testServerUrl()
const SKIP_REASON =
  'skipped: needs DATABASE_URL, a real PostgreSQL server; the gateway runs as a separate process that is ' +
  'SIGKILLed and restarted on the same database, which in-memory PGlite cannot outlive'

describe.skipIf(serverUrl === undefined)(
  serverUrl === undefined ? `crash recovery (${SKIP_REASON})` : 'crash recovery',
  () => {
    let database: TestDatabase
    let dataDir: string
    let port: number
    let gateway: GatewayProcess | undefined
    const proxies: TcpProxy[] = []
    const clients: PushClient[] = []

    beforeAll(async () => {
      database = await createTestDatabase('postgres', serverUrl)
      dataDir = await mkdtemp(join(tmpdir(), 'parley-crash-'))
      port = await freePort()
    })

    afterAll(async () => {
      await Promise.all(clients.map((client) => client.close()))
      for (const proxy of proxies) await proxy.close()
      await gateway?.kill()
      await database?.drop()
      if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
    })

    const startGateway = () => {
      if (database.url === undefined) throw new Error('the test database has no URL')
      return startGatewayProcess({
        port,
        args: ['--store-backend', 'postgres', '--database-url', database.url, '--data-dir', dataDir],
        env: {
          PARLEY_ADMIN_TOKEN: 'crash-test-admin-token-0123456789',
          // The whole stream stays in the history, so any resubscribe can be answered.
          PARLEY_HISTORY_SIZE: String(2 * PUBLICATIONS),
          PARLEY_HISTORY_TTL: '3600',
        },
      })
    }

    it('every acknowledged publish reaches the subscriber exactly once, in order, across a SIGKILL of the gateway', async ({
      annotate,
    }) => {
      gateway = await startGateway()
      // Both clients reach the gateway through proxies: the publisher's loses the replies of the publishes
      // in flight at the crash, and the subscriber's path stays down a little longer than the publisher's
      // after the restart, so its resubscribe has something to replay.
      const subscriberPath = await startTcpProxy(port)
      const publisherPath = await startTcpProxy(port)
      proxies.push(subscriberPath, publisherPath)
      const conditions = createConditions()
      const reconnect = { initialDelayMs: 50, maxDelayMs: 500 }
      const timeouts = { requestTimeoutMs: WAIT_MS, connectTimeoutMs: WAIT_MS }

      const subscriber = new PushClient(subscriberPath.wsUrl, {
        clientId: 'crash-subscriber',
        reconnect,
        ...timeouts,
      })
      clients.push(subscriber)
      /** Offset → the message the handler ran for there. */
      const delivered = new Map<number, ChannelMessage>()
      const recorder = new StreamRecorder(subscriber, {
        onChange: conditions.changed,
        onMessage: (message) => {
          if (message.offset !== undefined) delivered.set(message.offset, message)
        },
      })
      await subscriber.connect()
      const subscribed = await subscriber.subscribe(CHANNEL)
      expect(subscribed.offset).toBe(0)
      const seen = () => recorder.record(CHANNEL).lastOffset ?? 0

      const publisher = new PushClient(publisherPath.wsUrl, {
        clientId: 'crash-publisher',
        reconnect,
        ...timeouts,
      })
      clients.push(publisher)
      await publisher.connect()

      let crash: Promise<void> | undefined
      /** The subscriber's offset when the gateway died, and the stream's when its path came back. */
      let seenAtCrash = 0
      let publishedAtRelease = 0
      const crashAndRestart = async (stream: PublishStream) => {
        // Publishes committed whose replies never arrive: the retries must not store them again.
        publisherPath.stallReplies()
        // Replies already past the proxy still arrive: count the committed publications beyond the last ack.
        await conditions.until(
          () => seen() >= stream.lastOffset + UNANSWERED_AT_CRASH,
          WAIT_MS,
          () =>
            `${UNANSWERED_AT_CRASH} unanswered publishes committed (seen ${seen()}, acked ${stream.lastOffset})`,
        )
        subscriberPath.hold()
        seenAtCrash = seen()
        await gateway?.kill()
        gateway = await startGateway()
        conditions.changed()
      }
      const stream: PublishStream = publishStream(publisher, {
        channel: CHANNEL,
        window: PUBLISH_WINDOW,
        count: PUBLICATIONS,
        keyPrefix: 'crash-',
        maxAttempts: 100,
        onAck: () => {
          if (crash === undefined && stream.acked.size >= CRASH_AFTER_ACKS) crash = crashAndRestart(stream)
          conditions.changed()
        },
      })

      await conditions.until(() => crash !== undefined, WAIT_MS, `${CRASH_AFTER_ACKS} acks before the crash`)
      await crash
      // Both clients reconnect on their own; the subscriber's path opens once the publisher is well ahead.
      await conditions.until(
        () => stream.lastOffset >= seenAtCrash + PUBLISHED_WHILE_SUBSCRIBER_AWAY,
        WAIT_MS,
        () =>
          `${PUBLISHED_WHILE_SUBSCRIBER_AWAY} publications after offset ${seenAtCrash} (at ${stream.lastOffset})`,
      )
      publishedAtRelease = stream.lastOffset
      subscriberPath.release()
      await stream.done

      expect(stream.failures).toEqual([])
      expect(stream.acked.size).toBe(PUBLICATIONS)
      expect(stream.retries).toBeGreaterThan(0)
      const finalOffset = stream.lastOffset
      await conditions.until(
        () => recorder.record(CHANNEL).lastOffset === finalOffset,
        WAIT_MS,
        () => `the subscriber reached offset ${finalOffset} (at ${recorder.record(CHANNEL).lastOffset})`,
      )

      // The handler ran once per offset 1 … final, in order, with no message twice.
      const problems = streamProblems(recorder, CHANNEL, finalOffset, 'subscriber')
      expect(problems, [...problems.gaps, ...problems.missed].slice(0, 20).join('\n')).toEqual({
        gaps: [],
        duplicates: [],
        missed: [],
      })
      // Every acknowledged publish is among them, at the offset its receipt named.
      const lost: string[] = []
      for (const [n, receipt] of stream.acked) {
        const message = receipt.offset === undefined ? undefined : delivered.get(receipt.offset)
        if (message?.id !== receipt.id || (message.data as { n?: number }).n !== n) {
          lost.push(`publish ${n} acked as ${receipt.id} at ${receipt.offset}, delivered: ${message?.id}`)
        }
      }
      expect(lost.slice(0, 20)).toEqual([])
      // Retries with the same idempotency key stored nothing twice: the stream holds exactly the 10,000,
      // and the publishes committed before the crash were answered as duplicates after it.
      expect(finalOffset).toBe(PUBLICATIONS)
      const duplicates = [...stream.acked.values()].filter((receipt) => receipt.duplicate === true).length
      expect(duplicates).toBeGreaterThanOrEqual(UNANSWERED_AT_CRASH)

      // The resubscribe after the restart sent `since` and the gateway replayed what it missed.
      const resubscribes = recorder.resubscribes()
      expect(resubscribes.length).toBeGreaterThanOrEqual(1)
      expect(resubscribes.filter((info) => !info.recovered)).toEqual([])
      const replayed = resubscribes.reduce((sum, info) => sum + info.replayed, 0)
      expect(replayed).toBeGreaterThanOrEqual(publishedAtRelease - seenAtCrash)
      // The stream is in the database: the restart kept its epoch.
      expect(recorder.record(CHANNEL).epochChanges).toBe(0)
      await annotate(
        `crash at subscriber offset ${seenAtCrash}; ${stream.retries} publishes retried, ${duplicates} ` +
          `answered as duplicates; ${resubscribes.length} resubscribes replayed ${replayed}`,
      )
    }, 180_000)
  },
)
