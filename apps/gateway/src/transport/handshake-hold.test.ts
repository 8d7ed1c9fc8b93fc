import { describe, expect, it } from 'vitest'
import { createHandshakeHold } from './handshake-hold.js'

function connection(authenticating: boolean) {
  return { authenticating }
}

describe('handshake hold', () => {
  it('lets frames through when no authentication is under way', () => {
    const hold = createHandshakeHold({ maxFrames: 4, maxBytes: 1_000 })
    expect(hold.hold(connection(false), 'a')).toBe(false)
  })

  it('keeps frames during an authentication and releases them in arrival order', () => {
    const hold = createHandshakeHold({ maxFrames: 4, maxBytes: 1_000 })
    const client = connection(true)
    expect(hold.hold(client, 'a')).toBe(true)
    expect(hold.hold(client, 'b')).toBe(true)
    client.authenticating = false
    // Earlier frames still wait: a new one queues behind them instead of overtaking them.
    expect(hold.hold(client, 'c')).toBe(true)
    const handled: unknown[] = []
    hold.release(client, (data) => handled.push(data))
    expect(handled).toEqual(['a', 'b', 'c'])
    expect(hold.hold(client, 'd')).toBe(false)
  })

  it('stops releasing when a released frame starts another authentication', () => {
    const hold = createHandshakeHold({ maxFrames: 4, maxBytes: 1_000 })
    const client = connection(true)
    for (const frame of ['hello', 'after']) hold.hold(client, frame)
    client.authenticating = false
    const handled: unknown[] = []
    hold.release(client, (data) => {
      handled.push(data)
      if (data === 'hello') client.authenticating = true
    })
    expect(handled).toEqual(['hello'])
    client.authenticating = false
    hold.release(client, (data) => handled.push(data))
    expect(handled).toEqual(['hello', 'after'])
  })

  it('holds at most maxFrames frames and maxBytes bytes', () => {
    const byCount = createHandshakeHold({ maxFrames: 2, maxBytes: 1_000 })
    const first = connection(true)
    expect([byCount.hold(first, 'a'), byCount.hold(first, 'b'), byCount.hold(first, 'c')]).toEqual([
      true,
      true,
      false,
    ])
    const byBytes = createHandshakeHold({ maxFrames: 10, maxBytes: 5 })
    const second = connection(true)
    expect([byBytes.hold(second, 'abc'), byBytes.hold(second, 'def')]).toEqual([true, false])
  })
})
