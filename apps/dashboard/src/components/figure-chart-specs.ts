import type { ChartSpec } from './live-figures'

/** The charts of one agent's figures (its page) and of the gateway's (the Overview). */
export const AGENT_CHARTS: readonly ChartSpec[] = [
  {
    title: 'Requests per second',
    unit: '/s',
    lines: [
      { metric: 'agentRequests', label: 'requests' },
      { metric: 'agentErrors', label: 'errors' },
    ],
    testId: 'chart-requests',
  },
  {
    title: 'Request latency',
    unit: ' ms',
    lines: [
      { metric: 'latencyP50', label: 'p50' },
      { metric: 'latencyP95', label: 'p95' },
      { metric: 'latencyP99', label: 'p99' },
    ],
    testId: 'chart-latency',
  },
]

export const GATEWAY_CHARTS: readonly ChartSpec[] = [
  {
    title: 'Messages per second',
    unit: '/s',
    lines: [
      { metric: 'published', label: 'published' },
      { metric: 'delivered', label: 'delivered' },
    ],
    testId: 'chart-messages',
  },
  {
    title: 'Connections',
    unit: '',
    lines: [{ metric: 'connections', label: 'open' }],
    testId: 'chart-connections',
  },
  ...AGENT_CHARTS.map((chart) => ({ ...chart, title: `Agent ${chart.title.toLowerCase()}` })),
  {
    title: 'Errors per second',
    unit: '/s',
    lines: [
      { metric: 'agentErrors', label: 'agent request errors' },
      { metric: 'invalidFrames', label: 'invalid frames' },
    ],
    testId: 'chart-errors',
  },
  {
    title: 'Dead-letter depth',
    unit: '',
    lines: [{ metric: 'deadLetters', label: 'dead letters' }],
    testId: 'chart-dead-letters',
  },
]

export const CHANNEL_CHARTS: readonly ChartSpec[] = [
  {
    title: 'Publications per second',
    unit: '/s',
    lines: [{ metric: 'published', label: 'published' }],
    testId: 'chart-channel-messages',
  },
  {
    title: 'Live subscribers',
    unit: '',
    lines: [{ metric: 'subscribers', label: 'subscribers' }],
    testId: 'chart-channel-subscribers',
  },
]
