import type { ConnectionList } from '@parley/protocol/admin'
import { describe, expect, it } from 'vitest'
import { connectionCounts, describeConnectionCounts, pairingHref } from './connection-counts'

const open = {
  connectionId: 'conn-1',
  clientId: 'web-1',
  sessionId: 'sess-1',
  principal: 'anonymous',
  transport: 'websocket' as const,
  remoteAddress: null,
  userAgent: null,
  connectedAt: '2024-05-01T10:30:00.000Z',
  subscriptions: [],
  messagesIn: 0,
  messagesOut: 0,
}
const waiting = {
  connectionId: 'conn-2',
  requestId: 'dev_1',
  deviceName: 'kitchen tablet',
  transport: 'websocket' as const,
  remoteAddress: null,
  userAgent: null,
  connectedAt: '2024-05-01T10:30:00.000Z',
}

describe('connection counts', () => {
  it('counts open connections and those waiting for pairing in one total, the one /health answers', () => {
    const list: ConnectionList = { connections: [open, open], pairing: [waiting], total: 4 }
    expect(connectionCounts(list)).toEqual({ open: 2, pairing: 1, total: 4 })
    expect(describeConnectionCounts(connectionCounts(list))).toBe(
      '2 open · 1 waiting for pairing · 1 opening or closing',
    )
    // An older gateway without a total: what is listed.
    expect(connectionCounts({ connections: [open], pairing: [waiting] })).toEqual({
      open: 1,
      pairing: 1,
      total: 2,
    })
    expect(describeConnectionCounts({ open: 3, pairing: 0, total: 3 })).toBe('3 open')
  })

  it('links to the device request on the Pairing page', () => {
    expect(pairingHref('dev_1')).toBe('/pairing#device-dev_1')
    expect(pairingHref(null)).toBe('/pairing')
  })
})
