import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config.js'
import { createRetention } from './history-retention.js'

describe('createRetention', () => {
  it('applies the defaults to every channel when no pattern is configured', () => {
    const retention = createRetention(parseConfig({ history: { size: 5, ttl: 2 } }).history)
    expect(retention('any.channel')).toEqual({ size: 5, ttlMs: 2000 })
  })

  it('uses the first matching pattern and falls back to the defaults for fields it leaves out', () => {
    const retention = createRetention(
      parseConfig({
        history: {
          size: 100,
          ttl: 60,
          channels: [
            { pattern: 'audit.*', size: 0 },
            { pattern: 'audit.important', size: 9999 },
            { pattern: 'chat.*.room', ttl: 10 },
            { pattern: 'exact', size: 3, ttl: 1 },
          ],
        },
      }).history,
    )
    expect(retention('audit.important')).toEqual({ size: 0, ttlMs: 60_000 })
    expect(retention('chat.team.room')).toEqual({ size: 100, ttlMs: 10_000 })
    expect(retention('chat.team.rooms')).toEqual({ size: 100, ttlMs: 60_000 })
    expect(retention('exact')).toEqual({ size: 3, ttlMs: 1000 })
    expect(retention('exactly')).toEqual({ size: 100, ttlMs: 60_000 })
  })

  it('treats regex characters in patterns literally', () => {
    const retention = createRetention(
      parseConfig({ history: { size: 1, channels: [{ pattern: 'a.b', size: 7 }] } }).history,
    )
    expect(retention('a.b').size).toBe(7)
    expect(retention('axb').size).toBe(1)
  })
})
