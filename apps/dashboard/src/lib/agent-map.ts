import dagre from '@dagrejs/dagre'
import type { AgentMap, AgentMapEdge, AgentMapNode, AgentMapWindow } from '@parley/protocol/admin'

/** The map's node boxes, in pixels: dagre places them, React Flow draws them. */
export const MAP_NODE_WIDTH = 180
export const MAP_NODE_HEIGHT = 44

export const MAP_WINDOW_LABELS: Record<AgentMapWindow, string> = {
  '5m': 'last 5 minutes',
  '1h': 'last hour',
  '24h': 'last 24 hours',
}

export interface PlacedNode {
  node: AgentMapNode
  x: number
  y: number
}

/**
 * Places the map's nodes with dagre (layered, left to right: callers before the agents they call, channels
 * after their publishers). Deterministic: the same map gives the same places.
 */
export function layoutAgentMap(map: Pick<AgentMap, 'nodes' | 'edges'>): PlacedNode[] {
  const graph = new dagre.graphlib.Graph()
  graph.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 120, marginx: 20, marginy: 20 })
  graph.setDefaultEdgeLabel(() => ({}))
  for (const node of map.nodes) graph.setNode(node.id, { width: MAP_NODE_WIDTH, height: MAP_NODE_HEIGHT })
  for (const edge of map.edges) graph.setEdge(edge.source, edge.target)
  dagre.layout(graph)
  return map.nodes.map((node) => {
    const placed = graph.node(node.id)
    // dagre gives centres; React Flow wants top-left corners.
    return { node, x: placed.x - MAP_NODE_WIDTH / 2, y: placed.y - MAP_NODE_HEIGHT / 2 }
  })
}

/** An edge's health band by its error rate (refused and failed over all messages). */
export function edgeHealth(edge: Pick<AgentMapEdge, 'errorRate'>): 'ok' | 'some-errors' | 'failing' {
  if (edge.errorRate === 0) return 'ok'
  return edge.errorRate < 0.1 ? 'some-errors' : 'failing'
}

/** Stroke width 1.5-8 px, by messages relative to the busiest edge (square root, so small edges stay visible). */
export function edgeWidth(messages: number, busiest: number): number {
  if (busiest <= 0) return 1.5
  return Math.round((1.5 + 6.5 * Math.sqrt(messages / busiest)) * 10) / 10
}

export function describeEdge(edge: AgentMapEdge, names: ReadonlyMap<string, string>): string {
  const from = names.get(edge.source) ?? edge.source
  const to = names.get(edge.target) ?? edge.target
  const failed = edge.denied + edge.errors
  const rate = `${Math.round(edge.errorRate * 1000) / 10}% errors`
  return `${from} to ${to}: ${edge.messages} ${edge.messages === 1 ? 'message' : 'messages'}, ${failed === 0 ? 'no errors' : rate}`
}
