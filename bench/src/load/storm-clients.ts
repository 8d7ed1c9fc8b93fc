/**
 * A load process of the storm scenario, forked by storm-run.ts: a share of the subscribers, or the publisher.
 * Subscribers check every publication they get against the numbers of their channel (a gap, a duplicate)
 * and tell the orchestrator when all of them are back after a loss and when all have caught up with a target;
 * the publisher publishes numbered messages on every channel, one at a time per channel, paced, until told to
 * stop. Nothing here sleeps to wait for an event; every wait of the orchestrator is bounded.
 */
import { monotonicMs } from '../clock.js'
import {
  emptyCounts,
  type FromStorm,
  type PhaseCounts,
  type PublisherResult,
  STORM_PHASES,
  type StormConfig,
  type StormPhase,
  type StormPublisherConfig,
  type StormSubscribersConfig,
  type ToStorm,
} from '../storm-ipc.js'
import { errorCode, openPublisher, openSubscriber, type StormSubscriber } from './storm-targets.js'
import { openAll } from './worker-io.js'

const MAX_EXAMPLES = 10

function send(message: FromStorm): void {
  process.send?.(message)
}

function fail(message: string): void {
  process.send?.({ type: 'failed', message } satisfies FromStorm, () => process.exit(1))
  setTimeout(() => process.exit(1), 1000).unref()
}

function onCommand(handler: (command: ToStorm) => void): void {
  process.on('message', (message) => handler(message as ToStorm))
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------- subscribers

interface ClientState {
  index: number
  channel: string
  /** The last number received on the channel (0: none yet). */
  last: number
  /** Lost its connection in the current phase. */
  lost: boolean
  /** Has its subscription back since that loss. */
  back: boolean
  /** A restoration in the current phase reported missed messages. */
  unrecovered: boolean
}

async function runSubscribers(config: StormSubscribersConfig): Promise<void> {
  let phase: StormPhase = 'setup'
  const phases = Object.fromEntries(STORM_PHASES.map((name) => [name, emptyCounts()])) as Record<
    StormPhase,
    PhaseCounts
  >
  const clients: ClientState[] = []
  const examples: string[] = []
  const example = (text: string) => {
    if (examples.length < MAX_EXAMPLES) examples.push(`${phase}: ${text}`)
  }
  let received = 0
  let backCount = 0
  let catchUp: { targets: Record<string, number>; behind: number } | undefined

  const reached = () => {
    if (catchUp === undefined) return
    catchUp.behind -= 1
    if (catchUp.behind === 0) {
      catchUp = undefined
      send({ type: 'caught-up', at: monotonicMs() })
    }
  }

  const hooksFor = (client: ClientState) => ({
    onMessage(n: number) {
      received += 1
      const before = client.last
      if (n === before + 1) {
        client.last = n
      } else if (n <= before) {
        phases[phase].duplicates += 1
        example(`subscriber ${client.index} on ${client.channel}: got ${n} again after ${before}`)
        return
      } else {
        phases[phase].gaps += n - before - 1
        example(`subscriber ${client.index} on ${client.channel}: got ${n} after ${before}`)
        client.last = n
      }
      const target = catchUp?.targets[client.channel]
      if (target !== undefined && before < target && client.last >= target) reached()
    },
    onLost() {
      phases[phase].disconnects += 1
      client.lost = true
      if (client.back) {
        client.back = false
        backCount -= 1
      }
    },
    onRestored(recovered: boolean) {
      phases[phase].resubscribes += 1
      if (recovered) phases[phase].recovered += 1
      else client.unrecovered = true
      if (!recovered)
        example(`subscriber ${client.index} on ${client.channel}: subscription back, not recovered`)
      if (!client.lost || client.back) return
      client.back = true
      backCount += 1
      if (backCount === clients.length) send({ type: 'all-back', phase, at: monotonicMs() })
    },
  })

  let subscribers: StormSubscriber[]
  try {
    subscribers = await openAll(config.count, config.connectConcurrency, (offset) => {
      const index = config.firstIndex + offset
      const client: ClientState = {
        index,
        channel: config.channels[index % config.channels.length] ?? '',
        last: 0,
        lost: false,
        back: false,
        unrecovered: false,
      }
      clients.push(client)
      return openSubscriber(config.target, config.url, `storm-${index}`, client.channel, hooksFor(client))
    })
  } catch (error) {
    fail(`subscriber set-up failed after ${clients.length} clients: ${errorCode(error)}`)
    return
  }
  send({ type: 'ready', clients: subscribers.length })

  /** The phase is over: counts the clients that came back with every restoration recovered. */
  const endPhase = () => {
    phases[phase].clientsRecovered = clients.filter((client) => client.back && !client.unrecovered).length
    backCount = 0
    for (const client of clients) {
      client.lost = false
      client.back = false
      client.unrecovered = false
    }
  }

  onCommand((command) => {
    switch (command.type) {
      case 'phase':
        endPhase()
        phase = command.phase
        send({ type: 'phase-set', phase })
        return
      case 'status': {
        const notBack = clients.filter((client) => !client.back)
        const behind = clients.filter((client) => client.last < (catchUp?.targets[client.channel] ?? 0))
        send({
          type: 'status',
          notBack: notBack.length,
          behind: catchUp === undefined ? 0 : behind.length,
          examples: [...notBack.slice(0, 3), ...behind.slice(0, 3)].map(
            (client) =>
              `subscriber ${client.index} on ${client.channel} (last ${client.last}, lost ${client.lost}, ` +
              `back ${client.back}): ${subscribers[client.index - config.firstIndex]?.describe()}`,
          ),
        })
        return
      }
      case 'catch-up': {
        const targets = command.targets
        const behind = clients.filter((client) => client.last < (targets[client.channel] ?? 0)).length
        catchUp = { targets, behind }
        if (behind === 0) {
          catchUp = undefined
          send({ type: 'caught-up', at: monotonicMs() })
        }
        return
      }
      case 'stop': {
        endPhase()
        send({
          type: 'subscribers-result',
          result: { clients: clients.length, phases, received, behind: catchUp?.behind ?? 0, examples },
        })
        // Closing thousands of clients takes a while; the orchestrator kills the process after the result.
        for (const subscriber of subscribers) void subscriber.close()
        return
      }
      default:
        return
    }
  })
}

// ---------------------------------------------------------------- publisher

async function runPublisher(config: StormPublisherConfig): Promise<void> {
  const publisher = await openPublisher(config.target, config.url).catch((error: unknown) => {
    fail(`publisher set-up failed: ${errorCode(error)}`)
    return undefined
  })
  if (publisher === undefined) return
  const result: PublisherResult = {
    acked: Object.fromEntries(config.channels.map((channel) => [channel, 0])),
    retries: 0,
    duplicateReplies: 0,
    offsetRegressions: 0,
    errorsByCode: {},
  }
  const intervalMs = 1000 / config.ratePerChannel
  let stopping = false

  /** Numbers 1, 2, 3, … on one channel, each sent until acknowledged, at most `ratePerChannel` a second. */
  const publishChannel = async (channel: string) => {
    let previous: { offset: number; epoch: string } | undefined
    for (let n = 1; !stopping; n += 1) {
      const sentAt = monotonicMs()
      for (let attempt = 0; ; attempt += 1) {
        try {
          const outcome = await publisher.publish(channel, n)
          if (outcome.duplicate) result.duplicateReplies += 1
          const position = outcome.position
          if (position !== undefined) {
            if (
              previous !== undefined &&
              (position.epoch !== previous.epoch || position.offset <= previous.offset)
            )
              result.offsetRegressions += 1
            previous = position
          }
          break
        } catch (error) {
          const code = errorCode(error)
          result.errorsByCode[code] = (result.errorsByCode[code] ?? 0) + 1
          result.retries += 1
          // The client waits for its connection within the request timeout; this only spaces the retries.
          await sleep(Math.min(1000, 50 * 2 ** attempt))
        }
      }
      result.acked[channel] = n
      await sleep(Math.max(0, sentAt + intervalMs - monotonicMs()))
    }
  }

  let running: Promise<unknown> | undefined
  onCommand((command) => {
    if (command.type === 'start' && running === undefined) {
      running = Promise.all(config.channels.map(publishChannel))
    } else if (command.type === 'snapshot') {
      send({ type: 'snapshot', acked: { ...result.acked } })
    } else if (command.type === 'stop') {
      stopping = true
      void (running ?? Promise.resolve()).then(async () => {
        send({ type: 'publisher-result', result })
        await publisher.close()
      })
    }
  })
  send({ type: 'ready', clients: 1 })
}

// ---------------------------------------------------------------- entry

if (process.send === undefined) {
  process.stderr.write('storm-clients.ts is forked by the bench (storm-run.ts), with an IPC channel\n')
  process.exit(2)
}
process.on('disconnect', () => process.exit(0))
const config = await new Promise<StormConfig>((resolve) => {
  const onMessage = (message: ToStorm) => {
    if (message.type !== 'config') return
    process.off('message', onMessage)
    resolve(message.config)
  }
  process.on('message', onMessage)
  send({ type: 'booted' })
})
setTimeout(() => process.exit(3), config.deadlineMs).unref()
if (config.role === 'subscribers') await runSubscribers(config)
else await runPublisher(config)
