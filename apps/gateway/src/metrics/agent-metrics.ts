import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { AgentActivity, FinishedRequest } from '../agents/agent-activity.js'
import { boundedLabel } from './bounded-labels.js'

/** What the agent metrics read at scrape time. */
export interface AgentGauges {
  pendingRequests: number
  openStreams: number
  bufferedChunks: number
  activeAgents: number
}

export interface AgentMetricsDeps {
  activity: AgentActivity
  stats: () => AgentGauges
}

/** Distinct agent ids, capabilities and callers counted by name; more are counted as `_other`. */
const MAX_NAMES = 500
/** Request latency buckets, seconds: a millisecond hop up to the 30 s default request timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** `''` (no agent, no capability, a plain client) reads as `none` / `client` in a label. */
const named = (value: string, empty: string) => (value === '' ? empty : value)

/**
 * Agent request metrics, per agent and capability and per edge (caller → agent), counted as requests finish
 * (the layer's activity), and the agent gauges read at scrape time. Every label value is a name (agent id,
 * capability, error code), bounded by `boundedLabel`.
 */
export function registerAgentMetrics(registry: Registry, deps: AgentMetricsDeps): void {
  const agentName = boundedLabel(MAX_NAMES)
  const capabilityName = boundedLabel(MAX_NAMES)
  const callerName = boundedLabel(MAX_NAMES)
  const registers = [registry]
  const requests = new Counter({
    name: 'parley_agent_requests_total',
    help: 'Agent requests finished, by answering agent, capability and outcome (ok or the error code).',
    labelNames: ['agent', 'capability', 'outcome'],
    registers,
  })
  const duration = new Histogram({
    name: 'parley_agent_request_duration_seconds',
    help: 'Agent request latency at the gateway, from the request to its answer, by agent and capability.',
    labelNames: ['agent', 'capability'],
    buckets: LATENCY_BUCKETS,
    registers,
  })
  const edgeRequests = new Counter({
    name: 'parley_agent_edge_requests_total',
    help: 'Agent requests finished per edge: calling agent (client for a plain client) to answering agent.',
    labelNames: ['caller', 'agent', 'outcome'],
    registers,
  })
  const edgeDuration = new Histogram({
    name: 'parley_agent_edge_request_duration_seconds',
    help: 'Agent request latency per edge: calling agent (client for a plain client) to answering agent.',
    labelNames: ['caller', 'agent'],
    buckets: LATENCY_BUCKETS,
    registers,
  })
  deps.activity.onRequestFinished((request: FinishedRequest) => {
    const agent = agentName(named(request.agent, 'none'))
    const capability = capabilityName(named(request.capability, 'none'))
    const caller = callerName(named(request.caller, 'client'))
    const seconds = request.latencyMs / 1000
    requests.inc({ agent, capability, outcome: request.outcome })
    edgeRequests.inc({ caller, agent, outcome: request.outcome })
    // Refusals before any agent took the request have no latency worth a bucket.
    if (request.agent !== '') {
      duration.observe({ agent, capability }, seconds)
      edgeDuration.observe({ caller, agent }, seconds)
    }
  })
  const chunks = new Counter({
    name: 'parley_agent_stream_chunks_total',
    help: 'Agent stream chunks relayed by this node, by agent and direction (to_caller or to_agent).',
    labelNames: ['agent', 'direction'],
    registers,
  })
  deps.activity.onStreamChunk((agent, direction) => {
    chunks.inc({ agent: agentName(named(agent, 'none')), direction })
  })
  const gauges: ReadonlyArray<[string, string, keyof AgentGauges]> = [
    [
      'parley_agent_requests_in_flight',
      'Agent requests waiting for an answer on this node.',
      'pendingRequests',
    ],
    ['parley_agent_streams_open', 'Agent streams open through this node.', 'openStreams'],
    [
      'parley_agent_stream_chunks_buffered',
      'Stream chunks sent through this node and not yet confirmed by their reader.',
      'bufferedChunks',
    ],
    [
      'parley_agents_active',
      'Active agent instances, cluster-wide, as this node knows them.',
      'activeAgents',
    ],
  ]
  for (const [name, help, field] of gauges) {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(deps.stats()[field])
      },
    })
  }
}
