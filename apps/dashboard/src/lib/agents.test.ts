import type { AuditEvent } from '@parley/protocol/admin'
import { describe, expect, it } from 'vitest'
import { agentList, conversationRows } from '@/test-support/agent-fixtures'
import {
  conversationHref,
  correlationGroups,
  directionOf,
  filterAgentsByCapability,
  metadataEntries,
  totalInFlight,
} from './agents'

function row(fields: Partial<AuditEvent>): AuditEvent {
  return { ...(conversationRows[2] as AuditEvent), target: null, clientId: null, principal: null, ...fields }
}

describe('agents helpers', () => {
  it('tells the direction by the target first, then by the acting client or principal', () => {
    expect(directionOf(row({ target: 'billing', clientId: 'billing' }), 'planner', 'billing')).toBe('a→b')
    expect(directionOf(row({ target: 'planner' }), 'planner', 'billing')).toBe('b→a')
    expect(directionOf(row({ principal: 'planner' }), 'planner', 'billing')).toBe('a→b')
    expect(directionOf(row({ clientId: 'billing' }), 'planner', 'billing')).toBe('b→a')
    expect(directionOf(row({ target: 'someone-else' }), 'planner', 'billing')).toBe('unknown')
  })

  it('numbers correlation groups in order of first appearance and skips rows without one', () => {
    const groups = correlationGroups([
      row({ correlationId: 'r2' }),
      row({ correlationId: null }),
      row({ correlationId: 'r1' }),
      row({ correlationId: 'r2' }),
    ])
    expect([...groups.entries()]).toEqual([
      ['r2', 0],
      ['r1', 1],
    ])
  })

  it('filters by a part of a capability, ignoring case, and sums in-flight work', () => {
    expect(filterAgentsByCapability(agentList.agents, 'SUMM').map((agent) => agent.agentId)).toEqual([
      'planner',
    ])
    expect(filterAgentsByCapability(agentList.agents, ' ').map((agent) => agent.agentId)).toEqual([
      'planner',
      'billing',
    ])
    expect(totalInFlight(agentList.agents[0] as (typeof agentList.agents)[0])).toBe(3)
  })

  it('links to the conversation with the ids encoded', () => {
    expect(conversationHref('planner', 'a b&c')).toBe('/agents/conversation?a=planner&b=a+b%26c')
    expect(conversationHref('')).toBe('/agents/conversation')
  })
})

describe('metadataEntries', () => {
  it('lists metadata sorted by key, strings as they are and other values as JSON, cutting long values', () => {
    const long = 'x'.repeat(300)
    expect(metadataEntries({ zone: 'eu', model: { name: 'small', size: 7 }, gpu: true, long })).toEqual([
      { key: 'gpu', full: 'true', shown: 'true' },
      { key: 'long', full: long, shown: `${'x'.repeat(119)}…` },
      { key: 'model', full: '{"name":"small","size":7}', shown: '{"name":"small","size":7}' },
      { key: 'zone', full: 'eu', shown: 'eu' },
    ])
    expect(metadataEntries({})).toEqual([])
  })
})
