import type { AgentList, AuditEvent, GrantInfo, GrantList, PolicyList } from '@parley/protocol/admin'

/** The clock of the agent page tests: ages are read against it. */
export const AGENTS_NOW = Date.parse('2024-05-01T10:30:00.000Z')

export const agentList: AgentList = {
  agents: [
    {
      agentId: 'planner',
      capabilities: ['plan', 'summarize'],
      status: 'active',
      connectedSince: AGENTS_NOW - 3_600_000,
      instances: [
        {
          instanceId: 'ins_p1',
          agentId: 'planner',
          clientId: 'planner-1',
          principal: 'planner-key',
          capabilities: ['plan', 'summarize'],
          metadata: {},
          status: 'active',
          connectedAt: AGENTS_NOW - 3_600_000,
          lastSeen: AGENTS_NOW - 5_000,
          inFlight: 2,
          node: 'node-a',
        },
        {
          instanceId: 'ins_p2',
          agentId: 'planner',
          clientId: 'planner-2',
          principal: 'planner-key',
          capabilities: ['plan'],
          metadata: {},
          status: 'inactive',
          connectedAt: AGENTS_NOW - 600_000,
          lastSeen: AGENTS_NOW - 65_000,
          inFlight: 1,
          node: 'node-b',
        },
      ],
    },
    {
      agentId: 'billing',
      capabilities: ['invoices'],
      status: 'inactive',
      connectedSince: AGENTS_NOW - 120_000,
      instances: [
        {
          instanceId: 'ins_b1',
          agentId: 'billing',
          clientId: 'billing-1',
          principal: '<b>billing-key</b>',
          capabilities: ['invoices'],
          metadata: {},
          status: 'inactive',
          connectedAt: AGENTS_NOW - 120_000,
          lastSeen: AGENTS_NOW - 30_000,
          inFlight: 0,
          node: 'node-a',
        },
      ],
    },
  ],
}

export const liveGrant: GrantInfo = {
  id: 'grt_1',
  from: { principal: 'planner-key', clientId: 'planner-1', agentId: 'planner' },
  to: { principal: 'billing-key', clientId: 'billing-1', agentId: 'billing' },
  reason: 'need invoices for <script>alert(1)</script>',
  createdAt: '2024-05-01T10:00:00.000Z',
  revokedAt: null,
}

export const revokedGrant: GrantInfo = {
  id: 'grt_0',
  from: { principal: 'alice', clientId: 'web-1' },
  to: { principal: 'planner-key', clientId: 'planner-1', agentId: 'planner' },
  reason: null,
  createdAt: '2024-04-30T09:00:00.000Z',
  revokedAt: '2024-04-30T12:00:00.000Z',
}

export const liveGrants: GrantList = { grants: [liveGrant] }
export const allGrants: GrantList = { grants: [liveGrant, revokedGrant] }

export const policyList: PolicyList = {
  version: 7,
  defaultEffect: 'allow',
  rules: [
    {
      id: 'no-billing-streams',
      description: 'billing never streams <i>anything</i>',
      effect: 'deny',
      actions: ['stream'],
      subject: { kind: 'principal', pattern: '*' },
      target: { kind: 'principal', pattern: 'billing-key' },
      priority: 100,
      createdAt: '2024-05-01T09:00:00.000Z',
      updatedAt: '2024-05-01T09:00:00.000Z',
    },
    {
      id: 'intro-for-billing',
      description: null,
      effect: 'require_introduction',
      actions: ['message', 'request'],
      subject: { kind: 'role', pattern: 'agent' },
      target: { kind: 'capability', pattern: 'invoices' },
      priority: 10,
      createdAt: '2024-05-01T09:00:00.000Z',
      updatedAt: '2024-05-01T09:30:00.000Z',
    },
  ],
}

function auditRow(row: Partial<AuditEvent> & Pick<AuditEvent, 'id' | 'time' | 'kind'>): AuditEvent {
  return {
    principal: null,
    clientId: null,
    connectionId: null,
    channel: null,
    target: null,
    size: null,
    outcome: 'ok',
    detail: null,
    traceId: null,
    correlationId: null,
    latencyMs: null,
    ...row,
  }
}

/** planner asks billing, billing answers, then billing messages planner and a signal is denied. */
export const conversationRows: AuditEvent[] = [
  auditRow({
    id: 'au_1',
    time: '2024-05-01T10:00:00.000Z',
    kind: 'request',
    principal: 'planner-key',
    clientId: 'planner',
    target: 'billing',
    correlationId: 'req_1',
    traceId: 'tr_1',
    detail: '<img src=x onerror=alert(1)>',
  }),
  auditRow({
    id: 'au_2',
    time: '2024-05-01T10:00:01.000Z',
    kind: 'reply',
    principal: 'billing-key',
    clientId: 'billing',
    target: 'planner',
    correlationId: 'req_1',
    traceId: 'tr_1',
    latencyMs: 840,
  }),
  auditRow({
    id: 'au_3',
    time: '2024-05-01T10:00:05.000Z',
    kind: 'message',
    principal: 'billing-key',
    clientId: 'billing',
    target: 'planner',
  }),
]

export const laterConversationRows: AuditEvent[] = [
  auditRow({
    id: 'au_4',
    time: '2024-05-01T10:01:00.000Z',
    kind: 'signal',
    principal: 'planner-key',
    clientId: 'planner',
    target: 'billing',
    outcome: 'denied',
    detail: 'rule no-billing-streams',
  }),
]
