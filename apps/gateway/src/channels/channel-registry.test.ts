import { describe, expect, it } from 'vitest'
import { ChannelRegistry, type Subscriber } from './channel-registry.js'

function subscriber(): Subscriber & { received: (string | Buffer)[] } {
  const received: (string | Buffer)[] = []
  return { subscriptions: new Set(), received, send: (frame) => received.push(frame) > 0 }
}

describe('ChannelRegistry', () => {
  it('delivers the same encoded frame to every subscriber and counts them', () => {
    const registry = new ChannelRegistry()
    const a = subscriber()
    const b = subscriber()
    registry.subscribe('news', a, 10)
    registry.subscribe('news', b, 10)
    const frame = Buffer.from('{"type":"channel_message"}')
    expect(registry.publish('news', frame, 1)).toBe(2)
    expect(a.received[0]).toBe(frame)
    expect(b.received[0]).toBe(frame)
  })

  it('treats a second subscribe and unsubscribe as no-ops', () => {
    const registry = new ChannelRegistry()
    const a = subscriber()
    expect(registry.subscribe('news', a, 10)).toBe('subscribed')
    expect(registry.subscribe('news', a, 10)).toBe('already_subscribed')
    expect(registry.unsubscribe('news', a)).toBe(true)
    expect(registry.unsubscribe('news', a)).toBe(false)
    expect(registry.publish('news', 'x', 1)).toBe(0)
  })

  it('refuses subscriptions beyond the per-subscriber limit', () => {
    const registry = new ChannelRegistry()
    const a = subscriber()
    registry.subscribe('one', a, 2)
    registry.subscribe('two', a, 2)
    expect(registry.subscribe('three', a, 2)).toBe('limit_reached')
    expect(a.subscriptions.size).toBe(2)
  })

  it('removes every subscription of a subscriber at once', () => {
    const registry = new ChannelRegistry()
    const a = subscriber()
    registry.subscribe('one', a, 10)
    registry.subscribe('two', a, 10)
    registry.unsubscribeAll(a)
    expect(registry.subscriberCount('one')).toBe(0)
    expect(registry.subscriberCount('two')).toBe(0)
    expect(a.subscriptions.size).toBe(0)
  })

  it('keeps message counts per channel and forgets the oldest idle channels beyond the cap', () => {
    const registry = new ChannelRegistry({ maxIdleChannels: 2 })
    registry.publish('a', 'x', 1000)
    registry.publish('a', 'x', 2000)
    registry.publish('b', 'x', 1)
    registry.publish('c', 'x', 1)
    expect(registry.list().map((channel) => channel.name)).toEqual(['b', 'c'])
    registry.publish('c', 'x', 3000)
    expect(registry.list().find((channel) => channel.name === 'c')).toEqual({
      name: 'c',
      subscribers: 0,
      messages: 2,
      lastMessageAt: new Date(3000).toISOString(),
    })
  })

  it('counts only channels that have subscribers in its size', () => {
    const registry = new ChannelRegistry()
    const a = subscriber()
    registry.publish('nobody-listens', 'x', 1)
    expect(registry.size).toBe(0)
    registry.subscribe('news', a, 10)
    expect(registry.size).toBe(1)
    registry.unsubscribe('news', a)
    expect(registry.size).toBe(0)
    expect(registry.list().map((channel) => channel.name)).toEqual(['news', 'nobody-listens'])
  })

  it('reports the first subscriber of a channel and its last one leaving, however it leaves', () => {
    const events: string[] = []
    const registry = new ChannelRegistry({
      onFirstSubscriber: (channel) => events.push(`first ${channel}`),
      onLastSubscriber: (channel) => events.push(`last ${channel}`),
    })
    const a = subscriber()
    const b = subscriber()
    registry.subscribe('news', a, 10)
    registry.subscribe('news', b, 10)
    registry.subscribe('other', b, 10)
    registry.unsubscribe('news', a)
    expect(events).toEqual(['first news', 'first other'])
    registry.unsubscribeAll(b)
    expect(events).toEqual(['first news', 'first other', 'last news', 'last other'])
    registry.subscribe('news', a, 10)
    expect(events.at(-1)).toBe('first news')
  })

  it('forgets a position on request, so the next subscriber reads it from the store', () => {
    const registry = new ChannelRegistry()
    registry.publish('news', 'x', 1, { offset: 7, epoch: 'e' })
    expect(registry.positionOf('news')).toEqual({ offset: 7, epoch: 'e' })
    registry.forgetPosition('news')
    expect(registry.positionOf('news')).toBeUndefined()
    registry.notePosition('news', { offset: 9, epoch: 'e' })
    expect(registry.positionOf('news')).toEqual({ offset: 9, epoch: 'e' })
  })
})
