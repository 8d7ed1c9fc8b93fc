import { ApproveCodeRequest, type PairingDecision, type PairingOverview } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'
import type { ChatPairing } from '../pairing/chat-pairing.js'
import { parseBody } from './request-body.js'

export interface PairingRouteDeps {
  pairing: ChatPairing
}

/**
 * Chat-user pairing for the operator: `GET /api/admin/pairing` (pending requests and paired senders),
 * approve or deny a request by id, approve by code, and revoke a paired sender. Each decision reaches the
 * connectors as `pairing_resolved`; the admin guard writes the audit row from `adminAction`.
 */
export function registerPairingRoutes(app: GatewayApp, deps: PairingRouteDeps): void {
  const { pairing } = deps

  app.get('/api/admin/pairing', async (c) => {
    const body: PairingOverview = await pairing.overview()
    return c.json(body)
  })

  app.post('/api/admin/pairing/requests/:id/approve', async (c) => {
    const id = c.req.param('id')
    c.set('adminAction', `pairing approve request ${id}`)
    const body: PairingDecision = await pairing.approveRequest(id, c.get('principal').id)
    c.set('adminAction', describe('approve', body))
    return c.json(body)
  })

  app.post('/api/admin/pairing/requests/:id/deny', async (c) => {
    const id = c.req.param('id')
    c.set('adminAction', `pairing deny request ${id}`)
    const body: PairingDecision = await pairing.deny(id)
    c.set('adminAction', describe('deny', body))
    return c.json(body)
  })

  app.post('/api/admin/pairing/approve', async (c) => {
    const request = parseBody(ApproveCodeRequest, await c.req.json().catch(() => undefined), 'approval')
    // Never the code itself: a wrong one is a guess worth hiding, a right one is spent anyway.
    c.set(
      'adminAction',
      `pairing approve by code on ${request.channelType}${request.senderId === undefined ? '' : ` for ${JSON.stringify(request.senderId)}`}`,
    )
    const body: PairingDecision = await pairing.approveCode(request, c.get('principal').id)
    c.set('adminAction', describe('approve by code', body))
    return c.json(body)
  })

  app.delete('/api/admin/pairing/paired/:channelType/:senderId', async (c) => {
    const channelType = c.req.param('channelType')
    const senderId = c.req.param('senderId')
    c.set('adminAction', `pairing revoke ${channelType} ${JSON.stringify(senderId)}`)
    const body: PairingDecision = await pairing.revoke(channelType, senderId)
    return c.json(body)
  })
}

function describe(action: string, decision: PairingDecision): string {
  return `pairing ${action} ${decision.requestId ?? '-'} (${decision.channelType} ${JSON.stringify(decision.senderId)})`
}
