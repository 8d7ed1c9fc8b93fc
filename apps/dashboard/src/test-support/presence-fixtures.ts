import type { AdminPresenceList, NodeList } from '@parley/protocol/admin'

/** The tests' clock: answers are dated relative to it so ages read the same on every run. */
export const NOW = Date.parse('2026-01-01T12:00:00.000Z')

export const presenceList: AdminPresenceList = {
  clients: [
    {
      clientId: 'billing-agent',
      principal: 'tok_billing',
      status: 'busy',
      metadata: { task: 'summarising', load: 0.4 },
      lastSeen: NOW - 12_000,
      connections: 2,
      nodes: ['node-a', 'node-b'],
      channels: ['alerts', 'room.42'],
    },
    {
      clientId: 'ana-phone',
      principal: 'tok_billing',
      status: 'away',
      metadata: { note: '<img src=x onerror=alert(1)>' },
      lastSeen: NOW - 65_000,
      connections: 1,
      nodes: ['node-a'],
      channels: [],
    },
    {
      clientId: 'support-bot',
      principal: 'tok_support',
      status: 'online',
      metadata: {},
      lastSeen: NOW - 3_000,
      connections: 1,
      nodes: ['node-b'],
      channels: ['support'],
    },
  ],
  principals: [
    {
      principal: 'tok_billing',
      status: 'busy',
      clients: ['billing-agent', 'ana-phone'],
      connections: 3,
      lastSeen: NOW - 12_000,
    },
    {
      principal: 'tok_support',
      status: 'online',
      clients: ['support-bot'],
      connections: 1,
      lastSeen: NOW - 3_000,
    },
  ],
}

export const nodeList: NodeList = {
  nodes: [
    {
      id: 'node-a',
      version: '0.1.0',
      startedAt: '2026-01-01T11:00:00.000Z',
      lastSeenAt: '2026-01-01T12:00:00.000Z',
      connections: 4,
      channels: 3,
      bus: 'ok',
      self: true,
    },
    {
      id: 'node-b',
      version: '0.1.1',
      startedAt: '2026-01-01T10:30:00.000Z',
      lastSeenAt: '2026-01-01T11:59:50.000Z',
      connections: 2,
      channels: 1,
      bus: 'ok',
      self: false,
    },
  ],
}
