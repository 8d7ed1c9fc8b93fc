import type { AgentMap } from '@parley/protocol/admin'
import { describe, expect, it } from 'vitest'
import { describeEdge, edgeHealth, edgeWidth, layoutAgentMap } from './agent-map'

const map: Pick<AgentMap, 'nodes' | 'edges'> = {
  nodes: [
    { id: 'agent:planner', kind: 'agent', name: 'planner', active: true },
    { id: 'agent:worker', kind: 'agent', name: 'worker', active: true },
    { id: 'channel:news', kind: 'channel', name: 'news', active: false },
  ],
  edges: [
    {
      id: 'agent:planner->agent:worker',
      source: 'agent:planner',
      target: 'agent:worker',
      messages: 4,
      denied: 0,
      errors: 1,
      errorRate: 0.25,
      avgLatencyMs: 3,
      conversation: { a: 'planner', b: 'worker' },
    },
    {
      id: 'agent:worker->channel:news',
      source: 'agent:worker',
      target: 'channel:news',
      messages: 1,
      denied: 0,
      errors: 0,
      errorRate: 0,
      avgLatencyMs: null,
      conversation: null,
    },
  ],
}

describe('the agent map layout', () => {
  it('places a caller left of the agent it calls and a channel right of its publisher, without overlaps', () => {
    const placed = new Map(layoutAgentMap(map).map((entry) => [entry.node.id, entry]))
    const x = (id: string) => placed.get(id)?.x ?? Number.NaN
    expect(x('agent:planner')).toBeLessThan(x('agent:worker'))
    expect(x('agent:worker')).toBeLessThan(x('channel:news'))
    expect(layoutAgentMap(map)).toEqual(layoutAgentMap(map))
  })

  it('bands edges by error rate and widens them with traffic', () => {
    expect(edgeHealth({ errorRate: 0 })).toBe('ok')
    expect(edgeHealth({ errorRate: 0.05 })).toBe('some-errors')
    expect(edgeHealth({ errorRate: 0.25 })).toBe('failing')
    expect(edgeWidth(4, 4)).toBe(8)
    expect(edgeWidth(1, 4)).toBeLessThan(edgeWidth(4, 4))
    expect(edgeWidth(0, 0)).toBe(1.5)
  })

  it('describes an edge in words for its link', () => {
    const names = new Map(map.nodes.map((node) => [node.id, node.name]))
    expect(describeEdge(map.edges[0] as AgentMap['edges'][number], names)).toBe(
      'planner to worker: 4 messages, 25% errors',
    )
    expect(describeEdge(map.edges[1] as AgentMap['edges'][number], names)).toBe(
      'worker to news: 1 message, no errors',
    )
  })
})
