import {
  type A2aAgentList,
  A2aAgentList as A2aAgentListSchema,
  type A2aTaskInfo,
  A2aTaskInfo as A2aTaskInfoSchema,
  type AgentList,
  AgentList as AgentListSchema,
  type McpServerList,
  McpServerList as McpServerListSchema,
  type McpToolList,
  McpToolList as McpToolListSchema,
  type TokenList,
} from '@parley/protocol/admin'
import { AGENTS_NOW } from './agent-fixtures'

/*
 * Answers of the upstream routes, each parsed with the protocol's schema here: a fixture that drifts from
 * the contract fails every test that uses it.
 */

/** A WebSocket agent with described capabilities and an external A2A agent with two instance URLs. */
export const upstreamAgentList: AgentList = AgentListSchema.parse({
  agents: [
    {
      agentId: 'summarizer',
      capabilities: ['summarize', 'translate.fr'],
      status: 'active',
      kind: 'websocket',
      cardUrl: 'https://gw.example/a2a/summarizer/.well-known/agent-card.json',
      connectedSince: AGENTS_NOW - 60_000,
      instances: [
        {
          instanceId: 'ins_s1',
          agentId: 'summarizer',
          clientId: 'summarizer-1',
          principal: 'summarizer-key',
          capabilities: ['summarize', 'translate.fr'],
          capabilityInfo: {
            summarize: { title: 'Summarize', description: 'Shortens <i>any</i> text to a paragraph.' },
          },
          kind: 'websocket',
          metadata: {},
          status: 'active',
          connectedAt: AGENTS_NOW - 60_000,
          lastSeen: AGENTS_NOW - 1_000,
          inFlight: 0,
          node: 'node-a',
        },
      ],
    },
    {
      agentId: 'weather',
      capabilities: ['forecast'],
      status: 'active',
      kind: 'a2a',
      connectedSince: AGENTS_NOW - 30_000,
      instances: [
        {
          instanceId: 'ins_w1',
          agentId: 'weather',
          clientId: 'a2a:weather',
          principal: 'a2a:weather',
          capabilities: ['forecast'],
          capabilityInfo: { forecast: { description: 'Forecast for a city, three days ahead.' } },
          kind: 'a2a',
          url: 'http://127.0.0.1:9001/.well-known/agent-card.json',
          metadata: {},
          status: 'active',
          connectedAt: AGENTS_NOW - 30_000,
          lastSeen: AGENTS_NOW - 2_000,
          inFlight: 0,
          node: 'node-a',
        },
      ],
    },
  ],
})

export const a2aAgentList: A2aAgentList = A2aAgentListSchema.parse({
  agents: [
    {
      agentId: 'weather',
      name: 'Weather <b>agent</b>',
      description: 'Forecasts',
      capabilities: ['forecast'],
      instances: [
        {
          url: 'http://127.0.0.1:9001/.well-known/agent-card.json',
          state: 'up',
          lastFetchAt: '2024-05-01T10:29:30.000Z',
          lastError: null,
        },
        {
          url: 'http://127.0.0.1:9002/.well-known/agent-card.json',
          state: 'down',
          lastFetchAt: '2024-05-01T10:00:00.000Z',
          lastError: 'connect ECONNREFUSED 127.0.0.1:9002',
        },
      ],
      signatureVerified: true,
      credentials: 'bearer',
      createdAt: '2024-05-01T09:00:00.000Z',
    },
  ],
})

export const mcpServerList: McpServerList = McpServerListSchema.parse({
  servers: [
    {
      name: 'files',
      health: {
        url: 'http://127.0.0.1:9100/mcp',
        state: 'up',
        lastFetchAt: '2024-05-01T10:29:00.000Z',
        lastError: null,
      },
      tools: [
        {
          name: 'files__read',
          source: 'read',
          origin: 'upstream',
          owner: 'files',
          description: 'Reads a file',
          calls: 8,
          errors: 1,
        },
        {
          name: 'files__write',
          source: 'write',
          origin: 'upstream',
          owner: 'files',
          description: null,
          calls: 0,
          errors: 0,
        },
      ],
      credentials: 'none',
      createdAt: '2024-05-01T09:00:00.000Z',
    },
    {
      name: 'search',
      health: {
        url: 'http://127.0.0.1:9200/mcp',
        state: 'down',
        lastFetchAt: null,
        lastError: 'fetch failed: <script>alert(1)</script>',
      },
      tools: [],
      credentials: 'bearer',
      createdAt: '2024-05-01T09:10:00.000Z',
    },
  ],
})

export const everyTool: McpToolList = McpToolListSchema.parse({
  as: null,
  tools: [
    ...(mcpServerList.servers[0]?.tools ?? []),
    {
      name: 'summarizer__summarize',
      source: 'summarize',
      origin: 'agent',
      owner: 'summarizer',
      description: 'Shortens text',
      calls: 3,
      errors: 3,
    },
  ],
})

/** What `tok_restricted` may list: a deny rule hides `files__write`. */
export const restrictedTools: McpToolList = McpToolListSchema.parse({
  as: 'tok_restricted',
  tools: everyTool.tools.filter((tool) => tool.name !== 'files__write'),
})

export const tokenList: TokenList = {
  tokens: [
    {
      id: 'tok_restricted',
      name: 'restricted bot',
      role: 'client',
      scopes: ['*:*'],
      subject: null,
      createdAt: '2024-05-01T09:00:00.000Z',
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    },
  ],
}

export const completedTask: A2aTaskInfo = A2aTaskInfoSchema.parse({
  id: 'task-1',
  contextId: 'ctx-1',
  agentId: 'weather',
  owner: 'planner',
  state: 'completed',
  statusMessage: 'Done <b>now</b>',
  artifacts: [
    {
      artifactId: 'forecast',
      name: 'Forecast',
      description: null,
      parts: [
        { kind: 'text', text: 'Sunny, 21°C', mediaType: null },
        { kind: 'data', text: '{"high":21}', mediaType: 'application/json' },
      ],
    },
  ],
  events: 4,
  createdAt: '2024-05-01T10:00:00.000Z',
  updatedAt: '2024-05-01T10:00:02.000Z',
})
