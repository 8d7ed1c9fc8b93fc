import type { AgentCaller, AgentClient } from '@parley/client'
import type { RequestResult } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { SdkFixture, trackedWebSocket, waitUntil } from './support/sdk-agents.js'

const TOTAL = 3_000
const IN_FLIGHT = 50

/** Sends `TOTAL` idempotent requests with `IN_FLIGHT` waiting at once; resolves with every result in order. */
async function requestAll(caller: AgentCaller, onAnswer: () => void): Promise<RequestResult[]> {
  const results: RequestResult[] = new Array(TOTAL)
  let next = 0
  async function lane(): Promise<void> {
    while (next < TOTAL) {
      const index = next
      next += 1
      results[index] = await caller.requestResult({ capability: 'work' }, index, {
        idempotent: true,
        timeoutMs: 20_000,
      })
      onAnswer()
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  return results
}

describe('agent instances through the SDK against a real gateway', () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  /** Three instances of agent `worker` (one agent id, three client ids) sharing capability `work`. */
  async function workers(options: {
    victimSocket?: ReturnType<typeof trackedWebSocket>
    victimHolds?: () => boolean
  }) {
    const served = new Map<string, number>()
    const held = { count: 0 }
    const instances: AgentClient[] = []
    for (const name of ['worker-a', 'worker-b', 'worker-c']) {
      const victim = name === 'worker-a' ? options.victimSocket : undefined
      const instance = fixture.agent({
        agentId: 'worker',
        clientId: name,
        capabilities: ['work'],
        // The victim stays dead once killed.
        ...(victim === undefined ? {} : { WebSocket: victim.WebSocket, reconnect: false }),
      })
      served.set(name, 0)
      instance.handle('work', async (data, ctx) => {
        served.set(name, (served.get(name) ?? 0) + 1)
        if (victim !== undefined && options.victimHolds?.()) {
          // About to be killed: hold the request until the connection drops (the answer is then dropped).
          held.count += 1
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
          return undefined
        }
        // Answer on a later turn of the event loop, so requests are in flight on every instance at any time.
        await new Promise((resolve) => setImmediate(resolve))
        return { index: data, by: name }
      })
      instances.push(instance)
    }
    await Promise.all(instances.map((instance) => instance.connect()))
    return { served, instances, held }
  }

  it('three instances of one capability share 3,000 requests fairly, and killing one mid-run fails over its idempotent requests with none lost', async () => {
    await fixture.start()
    const victimSocket = trackedWebSocket()
    let killing = false
    const { served, instances, held } = await workers({ victimSocket, victimHolds: () => killing })
    const callerSocket = trackedWebSocket()
    const caller = fixture.caller('busy-caller', { WebSocket: callerSocket.WebSocket })
    await caller.connect()

    // First run, nobody killed: each instance within 20% of a third.
    const fair = await requestAll(caller, () => undefined)
    expect(fair.map((result) => (result.data as { index: number }).index)).toEqual(
      Array.from({ length: TOTAL }, (_, index) => index),
    )
    expect(fair.every((result) => result.agentId === 'worker' && result.attempts === 1)).toBe(true)
    for (const [name, count] of served) {
      expect(count, name).toBeGreaterThanOrEqual(800)
      expect(count, name).toBeLessThanOrEqual(1_200)
    }

    // Second run: worker-a is killed once a third is answered.
    // Every request reply the gateway sends the caller from now on, read off the wire: the SDK would drop a
    // duplicate.
    const repliesOnTheWire: string[] = []
    callerSocket.sockets[0]?.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as { type: string; result?: { correlationId?: string } }
      if (frame.type === 'reply' && frame.result?.correlationId !== undefined) {
        repliesOnTheWire.push(frame.result.correlationId)
      }
    })

    let answered = 0
    const run = requestAll(caller, () => {
      answered += 1
    })
    await waitUntil(() => answered >= TOTAL / 3, 30_000, 'a third of the requests answered')
    // The victim keeps what it gets from now on, so requests are surely in flight on it when it dies.
    killing = true
    await waitUntil(() => held.count >= 5, 10_000, 'requests held by the victim')
    // Abrupt: the TCP connection is destroyed, no close frame (a crashed process).
    victimSocket.sockets[0]?.terminate()
    const results = await run

    // Every request resolved once, with its own data.
    expect(results).toHaveLength(TOTAL)
    expect(results.map((result) => (result.data as { index: number }).index)).toEqual(
      Array.from({ length: TOTAL }, (_, index) => index),
    )
    // Exactly once: one reply per request reached the caller, none twice.
    expect(repliesOnTheWire).toHaveLength(TOTAL)
    expect(new Set(repliesOnTheWire).size).toBe(TOTAL)
    expect(callerSocket.sockets).toHaveLength(1)
    const failedOver = results.filter((result) => result.attempts > 1)
    expect(failedOver.length).toBeGreaterThanOrEqual(held.count)
    for (const result of failedOver) expect((result.data as { by: string }).by).not.toBe('worker-a')
    expect(instances[0]?.state).toBe('closed')
    const listed = await caller.agents({ capability: 'work' })
    const statuses = listed[0]?.instances.map((instance) => [instance.clientId, instance.status]).sort()
    expect(statuses).toEqual([
      ['worker-a', 'inactive'],
      ['worker-b', 'active'],
      ['worker-c', 'active'],
    ])
  }, 60_000)
})
