import type { PairingDecision } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'
import type { ChatPairing } from '../pairing/chat-pairing.js'
import { mountAdminRoutes } from './admin-routes.js'

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

  mountAdminRoutes(app, {
    pairing: () => pairing.overview(),
    approvePairing: async (c, { params: { id } }) => {
      c.set('adminAction', `pairing approve request ${id}`)
      const body = await pairing.approveRequest(id, c.get('principal').id)
      c.set('adminAction', describe('approve', body))
      return body
    },
    denyPairing: async (c, { params: { id } }) => {
      c.set('adminAction', `pairing deny request ${id}`)
      const body = await pairing.deny(id)
      c.set('adminAction', describe('deny', body))
      return body
    },
    approvePairingCode: async (c, input) => {
      const request = await input.body()
      // Never the code itself: a wrong one is a guess worth hiding, a right one is spent anyway.
      c.set(
        'adminAction',
        `pairing approve by code on ${request.channelType}${request.senderId === undefined ? '' : ` for ${JSON.stringify(request.senderId)}`}`,
      )
      const body = await pairing.approveCode(request, c.get('principal').id)
      c.set('adminAction', describe('approve by code', body))
      return body
    },
    revokePairedSender: (c, { params: { channelType, senderId } }) => {
      c.set('adminAction', `pairing revoke ${channelType} ${JSON.stringify(senderId)}`)
      return pairing.revoke(channelType, senderId)
    },
  })
}

function describe(action: string, decision: PairingDecision): string {
  return `pairing ${action} ${decision.requestId ?? '-'} (${decision.channelType} ${JSON.stringify(decision.senderId)})`
}
