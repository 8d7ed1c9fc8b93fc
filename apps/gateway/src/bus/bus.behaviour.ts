import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BusState, ClusterBus } from './types.js'

/** What a bus implementation gives the shared behaviour suite. */
export interface BusHarness {
  /** Joins a node to the shared bus (state `ok` once it resolves). */
  join(nodeId: string): Promise<ClusterBus>
  /** Cuts (false) or restores (true) every node's link to the shared bus, the way a network outage does. */
  setReachable(reachable: boolean): Promise<void>
  /** Closes what the harness opened and removes what it wrote. */
  close(): Promise<void>
}

/** Polls `condition` until it holds or `timeoutMs` passes (the bus is asynchronous, even in memory). */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Publishes until the receiver has seen a message: a subscription becomes effective upstream a moment
 * after `subscribe` returns, and pub/sub drops what is sent before. Returns the payloads seen.
 */
async function publishUntilSeen(
  from: ClusterBus,
  topic: string,
  seen: string[],
  timeoutMs = 5_000,
): Promise<void> {
  let sent = 0
  await eventually(
    () => {
      if (seen.length > 0) return true
      from.publish(topic, `probe-${sent++}`)
      return false
    },
    timeoutMs,
    `a message on ${topic}`,
  )
}

/** The behaviour every `ClusterBus` shared by several nodes must have. */
export function describeBusBehaviour(name: string, createHarness: () => Promise<BusHarness>): void {
  describe(`cluster bus behaviour: ${name}`, () => {
    let harness: BusHarness
    let a: ClusterBus
    let b: ClusterBus
    let c: ClusterBus

    beforeEach(async () => {
      harness = await createHarness()
      a = await harness.join('node-a')
      b = await harness.join('node-b')
      c = await harness.join('node-c')
    })

    afterEach(async () => {
      await harness.close()
    })

    it('starts ok and names its node', () => {
      expect(a.state()).toBe('ok')
      expect(a.nodeId).toBe('node-a')
      expect(b.nodeId).toBe('node-b')
    })

    it('delivers a publication to every other subscribed node, never back to the publisher', async () => {
      const onA: string[] = []
      const onB: string[] = []
      const onC: string[] = []
      a.subscribe('channel:news', (payload) => onA.push(payload))
      b.subscribe('channel:news', (payload) => onB.push(payload))
      c.subscribe('channel:news', (payload) => onC.push(payload))
      await publishUntilSeen(a, 'channel:news', onB)
      await eventually(() => onC.length > 0, 5_000, 'node c receiving')
      onB.length = 0
      onC.length = 0
      a.publish('channel:news', 'hello')
      await eventually(() => onB.includes('hello') && onC.includes('hello'), 5_000, 'hello on b and c')
      expect(onA).toEqual([])
    })

    it('keeps topics apart and delivers a topic only to nodes subscribed to it', async () => {
      const news: string[] = []
      const other: string[] = []
      b.subscribe('channel:news', (payload) => news.push(payload))
      c.subscribe('channel:other', (payload) => other.push(payload))
      await publishUntilSeen(a, 'channel:news', news)
      await publishUntilSeen(a, 'channel:other', other)
      news.length = 0
      other.length = 0
      a.publish('channel:news', 'n1')
      a.publish('channel:other', 'o1')
      await eventually(() => news.includes('n1') && other.includes('o1'), 5_000, 'both messages')
      expect(news).toEqual(['n1'])
      expect(other).toEqual(['o1'])
    })

    it('delivers messages from one node in the order they were published', async () => {
      const seen: string[] = []
      b.subscribe('channel:ordered', (payload) => seen.push(payload))
      await publishUntilSeen(a, 'channel:ordered', seen)
      seen.length = 0
      for (let index = 0; index < 200; index += 1) a.publish('channel:ordered', String(index))
      await eventually(() => seen.length >= 200, 5_000, '200 messages')
      expect(seen).toEqual(Array.from({ length: 200 }, (_, index) => String(index)))
    })

    it('counts handlers per topic: each gets every message, and the last one removed stops delivery', async () => {
      const first: string[] = []
      const second: string[] = []
      const removeFirst = b.subscribe('node:node-b', (payload) => first.push(payload))
      const removeSecond = b.subscribe('node:node-b', (payload) => second.push(payload))
      await publishUntilSeen(a, 'node:node-b', first)
      await eventually(() => second.length > 0, 5_000, 'second handler receiving')
      first.length = 0
      second.length = 0
      a.publish('node:node-b', 'both')
      await eventually(() => first.includes('both') && second.includes('both'), 5_000, 'both handlers')
      removeFirst()
      // The topic stays subscribed upstream for the remaining handler.
      a.publish('node:node-b', 'one')
      await eventually(() => second.includes('one'), 5_000, 'remaining handler')
      expect(first).not.toContain('one')
      removeSecond()
      // A marker topic on the same nodes shows when anything sent before it has arrived.
      const marker: string[] = []
      b.subscribe('marker', (payload) => marker.push(payload))
      await publishUntilSeen(a, 'marker', marker)
      a.publish('node:node-b', 'none')
      a.publish('marker', 'after')
      await eventually(() => marker.includes('after'), 5_000, 'marker after the last removal')
      expect([...first, ...second]).not.toContain('none')
    })

    it('shows entries of every node to every node, and removes them', async () => {
      await a.putEntry('nodes', 'node-a', 'A', 30_000)
      await b.putEntry('nodes', 'node-b', 'B', 30_000)
      const seenByC = await c.entries('nodes')
      expect(Object.fromEntries(seenByC)).toEqual({ 'node-a': 'A', 'node-b': 'B' })
      await a.putEntry('nodes', 'node-a', 'A2', 30_000)
      expect((await b.entries('nodes')).get('node-a')).toBe('A2')
      await a.removeEntry('nodes', 'node-a')
      expect([...(await c.entries('nodes')).keys()]).toEqual(['node-b'])
      expect((await c.entries('other-group')).size).toBe(0)
    })

    it('expires an entry its owner stops refreshing', async () => {
      await a.putEntry('clients', 'short', 'x', 300)
      await a.putEntry('clients', 'long', 'y', 30_000)
      expect((await b.entries('clients')).has('short')).toBe(true)
      await eventually(async () => !(await b.entries('clients')).has('short'), 5_000, 'expiry of short')
      expect((await b.entries('clients')).get('long')).toBe('y')
    })

    it('goes degraded when the shared bus is lost and back to ok, subscribed again, when it returns', async () => {
      const states: BusState[] = []
      b.onState((state) => states.push(state))
      const seen: string[] = []
      b.subscribe('channel:resilient', (payload) => seen.push(payload))
      await publishUntilSeen(a, 'channel:resilient', seen)

      await harness.setReachable(false)
      await eventually(() => a.state() === 'degraded' && b.state() === 'degraded', 10_000, 'degraded')
      expect(states).toContain('degraded')
      await expect(b.entries('nodes')).rejects.toThrow()
      // Best effort while degraded: dropped, never thrown.
      expect(() => a.publish('channel:resilient', 'lost')).not.toThrow()

      await harness.setReachable(true)
      await eventually(() => a.state() === 'ok' && b.state() === 'ok', 15_000, 'ok again')
      expect(states.at(-1)).toBe('ok')
      // The subscription made before the outage works again without subscribing anew.
      seen.length = 0
      await publishUntilSeen(a, 'channel:resilient', seen, 10_000)
      expect(seen.length).toBeGreaterThan(0)
      await a.putEntry('nodes', 'node-a', 'back', 30_000)
      expect((await b.entries('nodes')).get('node-a')).toBe('back')
    })

    it('stops receiving after close', async () => {
      const seen: string[] = []
      b.subscribe('channel:closing', (payload) => seen.push(payload))
      await publishUntilSeen(a, 'channel:closing', seen)
      await b.close()
      seen.length = 0
      const marker: string[] = []
      c.subscribe('marker', (payload) => marker.push(payload))
      await publishUntilSeen(a, 'marker', marker)
      a.publish('channel:closing', 'after close')
      a.publish('marker', 'done')
      await eventually(() => marker.includes('done'), 5_000, 'marker')
      expect(seen).toEqual([])
    })
  })
}
