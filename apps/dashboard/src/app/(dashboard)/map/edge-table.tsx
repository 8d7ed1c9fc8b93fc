import type { AgentMapEdge } from '@parley/protocol/admin'
import { edgeHealth } from '@/lib/agent-map'
import { conversationHref } from '@/lib/agents'
import { formatCount } from '@/lib/format'

/** The map's edges as rows: the text alternative of the drawing, busiest first. */
export function EdgeTable({
  edges,
  names,
}: {
  edges: readonly AgentMapEdge[]
  names: ReadonlyMap<string, string>
}) {
  if (edges.length === 0) return null
  return (
    <div className="table-wrap">
      <table data-testid="agent-map-edges">
        <caption className="muted small">Edges in the window</caption>
        <thead>
          <tr>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col" className="num">
              Messages
            </th>
            <th scope="col" className="num">
              Denied
            </th>
            <th scope="col" className="num">
              Errors
            </th>
            <th scope="col" className="num">
              Error rate
            </th>
            <th scope="col" className="num">
              Mean latency
            </th>
            <th scope="col">Conversation</th>
          </tr>
        </thead>
        <tbody>
          {edges.map((edge) => (
            <tr key={edge.id} data-testid="agent-map-edge-row" data-edge={edge.id}>
              <td className="mono">{names.get(edge.source) ?? edge.source}</td>
              <td className="mono">{names.get(edge.target) ?? edge.target}</td>
              <td className="num">{formatCount(edge.messages)}</td>
              <td className="num">{formatCount(edge.denied)}</td>
              <td className="num">{formatCount(edge.errors)}</td>
              <td className="num">
                <span className={`map-key map-key-${edgeHealth(edge)}`}>
                  {Math.round(edge.errorRate * 1000) / 10}%
                </span>
              </td>
              <td className="num">{edge.avgLatencyMs === null ? '—' : `${edge.avgLatencyMs} ms`}</td>
              <td>
                {edge.conversation === null ? (
                  <span className="muted">channel</span>
                ) : (
                  <a href={conversationHref(edge.conversation.a, edge.conversation.b)}>Open</a>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
