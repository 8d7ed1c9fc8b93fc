import type { RetentionPolicy } from '@parley/stores'
import type { HistoryConfig } from '../config.js'

/**
 * The retention of each channel's history from the `history` config: the first `channels` pattern that
 * matches the name (with `*` for any run of characters) sets size and TTL, falling back to the defaults.
 */
export function createRetention(config: HistoryConfig): (channel: string) => RetentionPolicy {
  const fallback: RetentionPolicy = { size: config.size, ttlMs: config.ttl * 1000 }
  const rules = config.channels.map((rule) => ({
    matches: globMatcher(rule.pattern),
    policy: { size: rule.size ?? config.size, ttlMs: (rule.ttl ?? config.ttl) * 1000 },
  }))
  if (rules.length === 0) return () => fallback
  return (channel) => rules.find((rule) => rule.matches(channel))?.policy ?? fallback
}

function globMatcher(pattern: string): (name: string) => boolean {
  if (pattern === '*') return () => true
  if (!pattern.includes('*')) return (name) => name === pattern
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*')
  const regex = new RegExp(`^${source}$`)
  return (name) => regex.test(name)
}
