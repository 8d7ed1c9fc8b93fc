'use client'

import '@xyflow/react/dist/style.css'
import './agent-map.css'
import { AGENT_MAP_WINDOWS, type AgentMapEdge, type AgentMapWindow } from '@parley/protocol/admin'
import { useQuery } from '@tanstack/react-query'
import {
  BaseEdge,
  type Edge,
  EdgeLabelRenderer,
  type EdgeProps,
  getBezierPath,
  MarkerType,
  type Node,
  Position,
  ReactFlow,
} from '@xyflow/react'
import { useRouter } from 'next/navigation'
import { useMemo, useState } from 'react'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { describeEdge, edgeHealth, edgeWidth, layoutAgentMap, MAP_WINDOW_LABELS } from '@/lib/agent-map'
import { agentMapQueries } from '@/lib/agent-map-queries'
import { conversationHref } from '@/lib/agents'
import { browserCall } from '@/lib/browser-api'
import { formatCount } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'
import { EdgeTable } from './edge-table'

const queries = agentMapQueries(browserCall)

type TrafficEdgeData = { edge: AgentMapEdge; label: string; href: string | null; width: number }
type TrafficEdge = Edge<TrafficEdgeData, 'traffic'>

/** An edge drawn with its width and health band, its message count as a link to the conversation. */
function TrafficEdgeView(props: EdgeProps<TrafficEdge>) {
  const [path, labelX, labelY] = getBezierPath(props)
  const data = props.data
  if (data === undefined) return null
  const health = edgeHealth(data.edge)
  return (
    <>
      <BaseEdge
        id={props.id}
        path={path}
        {...(props.markerEnd === undefined ? {} : { markerEnd: props.markerEnd })}
        className={`map-edge map-edge-${health}`}
        style={{ strokeWidth: data.width }}
      />
      <EdgeLabelRenderer>
        <div
          className={`map-edge-label map-edge-label-${health} nodrag nopan`}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
        >
          {data.href === null ? (
            <span title={data.label}>{formatCount(data.edge.messages)}</span>
          ) : (
            <a
              href={data.href}
              aria-label={`${data.label}: open the conversation`}
              data-testid="map-edge-link"
              data-edge={data.edge.id}
              data-health={health}
            >
              {formatCount(data.edge.messages)}
            </a>
          )}
        </div>
      </EdgeLabelRenderer>
    </>
  )
}

const EDGE_TYPES = { traffic: TrafficEdgeView }

/**
 * Who talks to whom: agents, other callers and channels, laid out by dagre, drawn by React Flow. An edge's
 * width follows its messages in the window, its colour its error rate; its count is a link (and the edge a
 * click target) to the conversation between the two sides. The table below says the same in rows.
 */
export function AgentMapView() {
  const router = useRouter()
  const [window, setWindow] = useState<AgentMapWindow>('1h')
  const result = useQuery(queries.agentMap(window)).data
  const map = result?.ok ? result.data : undefined

  const graph = useMemo(() => {
    if (map === undefined) return { nodes: [] as Node[], edges: [] as TrafficEdge[] }
    const names = new Map(map.nodes.map((node) => [node.id, node.name]))
    const busiest = Math.max(0, ...map.edges.map((edge) => edge.messages))
    const nodes: Node[] = layoutAgentMap(map).map(({ node, x, y }) => ({
      id: node.id,
      position: { x, y },
      data: { label: node.kind === 'channel' ? `# ${node.name}` : node.name },
      className: `map-node map-node-${node.kind}${node.active ? ' map-node-active' : ''}`,
      sourcePosition: Position.Right,
      targetPosition: Position.Left,
      ariaLabel: `${node.kind} ${node.name}${node.active ? ', active' : ''}`,
    }))
    const edges: TrafficEdge[] = map.edges.map((edge) => ({
      id: edge.id,
      source: edge.source,
      target: edge.target,
      type: 'traffic',
      markerEnd: { type: MarkerType.ArrowClosed },
      data: {
        edge,
        label: describeEdge(edge, names),
        href: edge.conversation === null ? null : conversationHref(edge.conversation.a, edge.conversation.b),
        width: edgeWidth(edge.messages, busiest),
      },
    }))
    return { nodes, edges }
  }, [map])

  return (
    <section data-testid="agent-map-page">
      <h1>Who talks to whom</h1>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <fieldset className="map-windows">
        <legend>Window</legend>
        {AGENT_MAP_WINDOWS.map((choice) => (
          <label key={choice} className="map-window">
            <input
              type="radio"
              name="map-window"
              value={choice}
              checked={window === choice}
              onChange={() => setWindow(choice)}
              data-testid={`map-window-${choice}`}
            />
            {MAP_WINDOW_LABELS[choice]}
          </label>
        ))}
      </fieldset>
      <div className="map-canvas" data-testid="agent-map" data-edges={graph.edges.length}>
        {graph.nodes.length === 0 ? (
          <p className="muted map-empty">No traffic in the {MAP_WINDOW_LABELS[window]}.</p>
        ) : (
          <ReactFlow
            nodes={graph.nodes}
            edges={graph.edges}
            edgeTypes={EDGE_TYPES}
            fitView
            nodesDraggable={false}
            nodesConnectable={false}
            nodesFocusable={false}
            edgesFocusable={false}
            elementsSelectable={false}
            colorMode="system"
            proOptions={{ hideAttribution: true }}
            onEdgeClick={(_event, edge) => {
              const href = (edge as TrafficEdge).data?.href
              if (href !== null && href !== undefined) router.push(href)
            }}
            aria-label="Map of agents, callers and channels"
          />
        )}
      </div>
      <p className="muted small map-legend">
        Width: messages in the window · colour: <span className="map-key map-key-ok">no errors</span>{' '}
        <span className="map-key map-key-some-errors">under 10% errors</span>{' '}
        <span className="map-key map-key-failing">10% or more</span> · counted from the audit trail of every
        node · refreshes every 2 seconds
      </p>
      <EdgeTable edges={map?.edges ?? []} names={new Map(map?.nodes.map((node) => [node.id, node.name]))} />
    </section>
  )
}
