import { setTimeout as delay } from 'node:timers/promises'
import {
  AgentCaller,
  AgentClient,
  type ChannelMessage,
  ParleyError,
  type PublishReceipt,
  PushClient,
} from '@parley/client'
import { expect } from 'vitest'
import type { Gateway, StartedGateway } from '../../../src/create-gateway.js'
import { createConditions } from '../../acceptance/support/conditions.js'
import { StreamRecorder, streamProblems } from '../../acceptance/support/stream-recorder.js'
import type { FaultMode, FaultProxy } from '../../support/fault-proxy.js'

/**
 * One fault, played against running gateways under load: a publisher and a subscriber on a channel, an
 * agent answering requests from a caller, and an operator probing `/health`, `/ready` and `/metrics`. The
 * link to a store (the proxy) fails for `outageMs`, then comes back. What is asserted is outcome, not
 * timing: every gateway is still running, every error a client saw while degraded was retryable, the
 * gateways recover on their own, and every acknowledged publish reached the subscriber exactly once.
 */

export interface ScenarioNode {
  gateway: Gateway
  started: StartedGateway
}

export interface FaultScenario {
  mode: FaultMode
  proxy: FaultProxy
  /** Every node; the roles below name which one each client uses. */
  nodes: ScenarioNode[]
  publisherNode: number
  subscriberNode: number
  agentNode: number
  callerNode: number
  outageMs: number
  /** The fault takes the store away for good during the outage: publishes fail and `/ready` says 503. */
  storeDown: boolean
  /** Channel name, unique per scenario. */
  channel: string
}

/**
 * How long an operator's probe may take while a store is down. The handlers read cached probe results and
 * counters, so they answer in milliseconds; a handler that waited on the store would wait for the store
 * timeout (3 s in this suite) or for the whole outage. 1.5 s sits between the two with room for a loaded
 * machine's event loop lag.
 */
export const PROBE_ANSWER_BOUND_MS = 1_500
/** Gateways under test answer a store call after at most this long (`stores.timeout`). */
export const SUITE_STORE_TIMEOUT_S = 3
const WAIT_MS = 60_000
/** Pause between two publishes of a lane: a steady load that keeps the history small enough to check. */
const PUBLISH_PAUSE_MS = 20
const REQUEST_PAUSE_MS = 50
const PROBE_PAUSE_MS = 200

interface ClientFailure {
  what: string
  code: string
  retryable: boolean
}

interface ProbeAnswer {
  path: string
  status: number
  ms: number
  duringOutage: boolean
}

export async function runFaultScenario(scenario: FaultScenario): Promise<string> {
  const conditions = createConditions()
  const node = (index: number) => scenario.nodes[index] as ScenarioNode
  const reconnect = { initialDelayMs: 50, maxDelayMs: 500 }
  const clients: { close(): Promise<void> | void }[] = []
  const failures: ClientFailure[] = []
  let outage = false
  let stopping = false

  try {
    // Subscriber first, from the start of the channel.
    const subscriber = new PushClient(node(scenario.subscriberNode).started.wsUrl, {
      clientId: `${scenario.channel}-subscriber`,
      reconnect,
    })
    clients.push(subscriber)
    const delivered = new Map<number, ChannelMessage>()
    const recorder = new StreamRecorder(subscriber, {
      onChange: conditions.changed,
      onMessage: (message) => {
        if (message.offset !== undefined) delivered.set(message.offset, message)
      },
    })
    await subscriber.connect()
    await subscriber.subscribe(scenario.channel)

    // Publisher: two lanes, each retrying a publication with its idempotency key until it is acknowledged.
    const publisher = new PushClient(node(scenario.publisherNode).started.wsUrl, {
      clientId: `${scenario.channel}-publisher`,
      reconnect,
    })
    clients.push(publisher)
    await publisher.connect()
    const acked = new Map<number, PublishReceipt>()
    let nextPublication = 0
    let ackedAfterRecovery = 0
    let recovered = false
    let unavailableWhileDown = 0
    const publishLane = async () => {
      while (!stopping) {
        const n = nextPublication
        nextPublication += 1
        for (;;) {
          try {
            const receipt = await publisher.publish(scenario.channel, { n }, { idempotencyKey: `p-${n}` })
            acked.set(n, receipt)
            if (recovered) ackedAfterRecovery += 1
            conditions.changed()
            break
          } catch (error) {
            const failure = describeFailure('publish', error)
            failures.push(failure)
            if (outage && failure.code === 'unavailable' && failure.retryable) unavailableWhileDown += 1
            conditions.changed()
            if (!failure.retryable) break
            await delay(PUBLISH_PAUSE_MS)
          }
        }
        await delay(PUBLISH_PAUSE_MS)
      }
    }

    // Agent requests across the nodes.
    const agent = new AgentClient(node(scenario.agentNode).started.wsUrl, {
      agentId: `${scenario.channel}-echo`,
      capabilities: ['echo'],
      reconnect,
    })
    clients.push(agent)
    agent.handle((data) => ({ echoed: data }))
    await agent.connect()
    const caller = new AgentCaller(node(scenario.callerNode).started.wsUrl, {
      clientId: `${scenario.channel}-caller`,
      reconnect,
    })
    clients.push(caller)
    await caller.connect()
    let answered = 0
    let answeredAfterRecovery = 0
    const requestLane = async () => {
      for (let index = 0; !stopping; index += 1) {
        try {
          const reply = await caller.request(`${scenario.channel}-echo`, index, { timeoutMs: 5_000 })
          expect(reply).toEqual({ echoed: index })
          answered += 1
          if (recovered) answeredAfterRecovery += 1
        } catch (error) {
          failures.push(describeFailure('request', error))
        }
        conditions.changed()
        await delay(REQUEST_PAUSE_MS)
      }
    }

    // The operator's probes.
    const probes: ProbeAnswer[] = []
    let readyEverywhere = true
    const probeLane = async () => {
      while (!stopping) {
        let allReady = true
        for (const { started } of scenario.nodes) {
          for (const path of ['/health', '/ready', '/metrics']) {
            const duringOutage = outage
            const began = performance.now()
            const response = await fetch(`${started.url}${path}`, { signal: AbortSignal.timeout(WAIT_MS) })
            await response.arrayBuffer()
            const answer = { path, status: response.status, ms: performance.now() - began, duringOutage }
            // Only answers wholly inside the outage count as answered while degraded.
            probes.push({ ...answer, duringOutage: duringOutage && outage })
            if (path === '/ready' && response.status !== 200) allReady = false
          }
        }
        readyEverywhere = allReady
        conditions.changed()
        await delay(PROBE_PAUSE_MS)
      }
    }

    const lanes = [publishLane(), publishLane(), requestLane(), probeLane()]
    await conditions.until(() => acked.size >= 20 && answered >= 5, WAIT_MS, 'load before the fault')

    // The fault.
    outage = true
    const faultStarted = performance.now()
    scenario.proxy.setMode(scenario.mode)
    if (scenario.storeDown) {
      await conditions.until(
        () => unavailableWhileDown > 0 && !readyEverywhere,
        scenario.outageMs,
        () =>
          `a publish answered unavailable (${unavailableWhileDown}) and /ready 503 (ready: ${readyEverywhere}) during the outage`,
      )
    }
    await delay(Math.max(0, scenario.outageMs - (performance.now() - faultStarted)))
    const ackedBeforeRecovery = acked.size
    outage = false
    scenario.proxy.setMode('pass')
    recovered = true

    // Recovery, on its own.
    await conditions.until(
      () => readyEverywhere && ackedAfterRecovery >= 20 && answeredAfterRecovery >= 5,
      WAIT_MS,
      () =>
        `recovery (ready everywhere: ${readyEverywhere}, publishes acked after: ${ackedAfterRecovery}, ` +
        `requests answered after: ${answeredAfterRecovery})`,
    )
    stopping = true
    await Promise.all(lanes)

    for (const { gateway } of scenario.nodes) expect(gateway.state).toBe('running')
    expect(failures.filter((failure) => !failure.retryable)).toEqual([])
    const answersDuringOutage = probes.filter((probe) => probe.duringOutage)
    expect(answersDuringOutage.length).toBeGreaterThan(0)
    expect(answersDuringOutage.filter((probe) => probe.path === '/health' && probe.status !== 200)).toEqual(
      [],
    )
    expect(answersDuringOutage.filter((probe) => probe.path === '/metrics' && probe.status !== 200)).toEqual(
      [],
    )
    expect(answersDuringOutage.filter((probe) => probe.ms > PROBE_ANSWER_BOUND_MS)).toEqual([])

    // Every acknowledged publish reached the subscriber once, at the offset its receipt named.
    const finalOffset = Math.max(0, ...[...acked.values()].map((receipt) => receipt.offset ?? 0))
    await conditions.until(
      () => recorder.record(scenario.channel).lastOffset === finalOffset,
      WAIT_MS,
      () =>
        `the subscriber reached offset ${finalOffset} (at ${recorder.record(scenario.channel).lastOffset})`,
    )
    const problems = streamProblems(recorder, scenario.channel, finalOffset, 'subscriber')
    expect(problems).toEqual({ gaps: [], duplicates: [], missed: [] })
    const lost: string[] = []
    for (const [n, receipt] of acked) {
      const message = receipt.offset === undefined ? undefined : delivered.get(receipt.offset)
      if (message?.id !== receipt.id || (message.data as { n?: number }).n !== n) {
        lost.push(`publish ${n} acked as ${receipt.id} at ${receipt.offset}, delivered ${message?.id}`)
      }
    }
    expect(lost.slice(0, 10)).toEqual([])
    // Retries with the same key stored nothing twice: one offset per acknowledged publication.
    expect(finalOffset).toBe(acked.size)

    const unavailable = failures.filter((failure) => failure.code === 'unavailable').length
    const slowest = Math.max(0, ...answersDuringOutage.map((probe) => probe.ms))
    return (
      `${scenario.mode}: ${acked.size} publishes acked (${ackedBeforeRecovery} before recovery), ` +
      `${answered} requests answered, ${failures.length} retryable failures (${unavailable} unavailable), ` +
      `${answersDuringOutage.length} probes during the outage, slowest ${Math.round(slowest)} ms`
    )
  } finally {
    stopping = true
    scenario.proxy.setMode('pass')
    await Promise.all(clients.map((client) => client.close()))
  }
}

function describeFailure(what: string, error: unknown): ClientFailure {
  if (error instanceof ParleyError) return { what, code: error.code, retryable: error.retryable }
  return { what, code: error instanceof Error ? error.name : 'unknown', retryable: false }
}
