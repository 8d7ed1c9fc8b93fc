/**
 * A load-generator process, forked by scenario.ts while the servers start; it reports `booted`, then gets
 * its WorkerConfig over IPC. It holds a share of the subscriber connections, the publisher, a share of
 * the agent connections or the callers (request scenario, see request-roles.ts), and talks to the
 * orchestrator over IPC only.
 */
import { monotonicMs } from '../clock.js'
import { LatencyHistogram } from '../histogram.js'
import type { BenchPayload, PublisherResult, PublisherWorkerConfig, SubscriberWorkerConfig } from '../ipc.js'
import { clientFor, type PublisherConnection } from './clients.js'
import { runAgents, runCallers } from './request-roles.js'
import {
  CONNECT_TIMEOUT_MS,
  createSendRun,
  fail,
  isSending,
  measuredSent,
  onCommand,
  openAll,
  payloadPadding,
  receiveConfig,
  runPhases,
  send,
  watchForStall,
} from './worker-io.js'

// ---------------------------------------------------------------- subscribers

async function runSubscribers(config: SubscriberWorkerConfig): Promise<void> {
  const client = clientFor(config.target)
  const histogram = new LatencyHistogram()
  const closedByCode: Record<string, number> = {}
  let open = 0
  let measuredDeliveries = 0
  let totalDeliveries = 0

  // Flow control: a sequence number is complete once every open connection of this process has it.
  // The orchestrator relays the lowest `completedThrough` of all processes to the publisher.
  const receivedBy = new Map<number, number>()
  const completedAhead = new Set<number>()
  let completedThrough = 0
  let reportScheduled = false
  let reportedThrough = 0

  const complete = (seq: number) => {
    receivedBy.delete(seq)
    if (seq !== completedThrough + 1) {
      completedAhead.add(seq)
      return
    }
    completedThrough = seq
    while (completedAhead.delete(completedThrough + 1)) completedThrough++
    if (!reportScheduled) {
      // One progress message per event-loop turn, however many deliveries the turn carried.
      reportScheduled = true
      setImmediate(() => {
        reportScheduled = false
        if (completedThrough === reportedThrough) return
        reportedThrough = completedThrough
        send({ type: 'progress', completedThrough })
      })
    }
  }

  const onPayload = (payload: BenchPayload) => {
    const receivedAt = monotonicMs()
    totalDeliveries++
    if (payload.m === 1) {
      measuredDeliveries++
      histogram.record(receivedAt - payload.t)
    }
    const count = (receivedBy.get(payload.seq) ?? 0) + 1
    if (count >= open) complete(payload.seq)
    else receivedBy.set(payload.seq, count)
  }

  const onClose = (code: number) => {
    open--
    closedByCode[code] = (closedByCode[code] ?? 0) + 1
    if (open === 0) {
      fail(`all ${config.connections} subscriber connections were closed (last code ${code})`)
      return
    }
    // Publications still waiting only on the closed connection are complete now.
    for (const [seq, count] of receivedBy) if (count >= open) complete(seq)
  }

  try {
    await openAll(config.connections, config.connectConcurrency, async (index) => {
      const connection = await client.subscriber(
        {
          baseUrl: config.baseUrl,
          channel: config.channel,
          clientId: `bench-sub-${config.workerIndex}-${index}`,
          timeoutMs: CONNECT_TIMEOUT_MS,
        },
        { onPayload, onClose },
      )
      open++
      return connection
    })
  } catch (error) {
    fail(
      `subscriber set-up failed after ${open} connections: ${error instanceof Error ? error.message : error}`,
    )
    return
  }
  send({ type: 'ready', connections: open })

  onCommand((command) => {
    if (command.type !== 'report') return
    send({
      type: 'subscriber-result',
      result: {
        connections: config.connections,
        measuredDeliveries,
        totalDeliveries,
        latency: histogram.toPairs(),
        closedByCode,
      },
    })
  })
}

// ---------------------------------------------------------------- publisher

async function runPublisher(config: PublisherWorkerConfig): Promise<void> {
  const client = clientFor(config.target)
  const errorsByCode: Record<string, number> = {}
  const ackLatency = new LatencyHistogram()
  /** Send times of the measured publications still waiting for their acknowledgement, by sequence number. */
  const sentAt = new Map<number, number>()
  const run = createSendRun()
  let nextSeq = 1
  let unacknowledged = 0
  let acknowledged = 0
  let completedThrough = 0
  let lastDeliveredCount: number | undefined

  const pad = payloadPadding(config.payloadBytes)

  let connection: PublisherConnection
  const progressed = () => {
    run.lastProgressAt = monotonicMs()
    pump()
  }
  try {
    connection = await client.publisher(
      {
        baseUrl: config.baseUrl,
        channel: config.channel,
        clientId: 'bench-publisher',
        timeoutMs: CONNECT_TIMEOUT_MS,
      },
      {
        onAck(seq, delivered) {
          const sent = sentAt.get(seq)
          if (sent !== undefined) {
            ackLatency.record(monotonicMs() - sent)
            sentAt.delete(seq)
          }
          unacknowledged--
          acknowledged++
          if (delivered !== undefined) lastDeliveredCount = delivered
          progressed()
        },
        onError(seq, code) {
          errorsByCode[code] = (errorsByCode[code] ?? 0) + 1
          // An error answers a request too; a publish error with no id cannot be matched, so stop.
          if (seq === undefined || Number.isNaN(seq)) {
            fail(`the server answered with error ${code}`)
            return
          }
          sentAt.delete(seq)
          unacknowledged--
          progressed()
        },
        onClose(code) {
          if (run.phase !== 'done') fail(`the server closed the publisher connection with code ${code}`)
        },
      },
    )
  } catch (error) {
    fail(`publisher set-up failed: ${error instanceof Error ? error.message : error}`)
    return
  }

  // Paced: one publication every `1 / rate` seconds. A slot missed while the window was full is skipped,
  // not made up in a burst, so the rate never exceeds the one asked for.
  const rate = config.ratePerSecond
  const interval = rate === undefined ? 0 : 1000 / rate
  let nextDueAt = 0
  let pacingTimer: NodeJS.Timeout | undefined

  /** Paced: waits for the next publication's time, unless a wait is already set. */
  function awaitNextDue(): void {
    if (rate === undefined || pacingTimer !== undefined || !isSending(run)) return
    pacingTimer = setTimeout(
      () => {
        pacingTimer = undefined
        pump()
      },
      Math.max(0, nextDueAt - monotonicMs()),
    )
  }

  /**
   * Bounded in-flight window: at most `window` publications may be unacknowledged by the server, and at
   * most `window` may be missing at some subscriber. The second bound keeps every target honest when the
   * server acknowledges before its writes drain, so queues (and latency) cannot grow without limit.
   */
  function pump(): void {
    while (
      isSending(run) &&
      unacknowledged < config.window &&
      nextSeq - 1 - completedThrough < config.window &&
      (rate === undefined || nextDueAt <= monotonicMs())
    ) {
      if (rate !== undefined) nextDueAt = Math.max(nextDueAt + interval, monotonicMs() + interval / 2)
      const seq = nextSeq++
      const t = monotonicMs()
      if (run.phase === 'measure') sentAt.set(seq, t)
      connection.publish({ seq, t, m: run.phase === 'measure' ? 1 : 0, pad })
      unacknowledged++
    }
    awaitNextDue()
    if (run.phase === 'drain' && unacknowledged <= 0 && completedThrough >= nextSeq - 1) finish(true)
  }

  function finish(drained: boolean): void {
    if (run.phase === 'done') return
    run.phase = 'done'
    const result: PublisherResult = {
      published: nextSeq - 1,
      measuredPublished: measuredSent(run),
      measuredMs: run.measureEndedAt - run.measureStartedAt,
      acknowledged,
      ackLatency: ackLatency.toPairs(),
      errorsByCode,
      lastDeliveredCount,
      drained,
    }
    send({ type: 'publisher-result', result })
  }

  watchForStall(run, 'no acknowledgement or delivery progress')

  onCommand((command) => {
    if (command.type === 'progress') {
      if (command.completedThrough > completedThrough) {
        completedThrough = command.completedThrough
        progressed()
      }
      return
    }
    if (command.type !== 'start' || run.phase !== 'idle') return
    nextDueAt = monotonicMs()
    runPhases(config, run, () => nextSeq, { pump, finish })
  })

  send({ type: 'ready', connections: 1 })
}

// ---------------------------------------------------------------- entry

if (process.send === undefined) {
  process.stderr.write('worker.ts is forked by the bench (scenario.ts), with an IPC channel\n')
  process.exit(2)
}
// Nothing outlives the bench: exit when the orchestrator goes away or the deadline passes.
process.on('disconnect', () => process.exit(0))
const config = await receiveConfig()
setTimeout(() => process.exit(3), config.deadlineMs).unref()

switch (config.role) {
  case 'subscribers':
    await runSubscribers(config)
    break
  case 'publisher':
    await runPublisher(config)
    break
  case 'agents':
    await runAgents(config)
    break
  case 'callers':
    await runCallers(config)
    break
}
