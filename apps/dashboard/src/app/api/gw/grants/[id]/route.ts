import { answerActionFromGateway, answerForId, type IdRouteContext } from '../../../../../lib/gateway-route'

/** Revokes a grant; both parties get `grant_revoked`. */
export function DELETE(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (id) =>
    answerActionFromGateway(request, (gateway) => gateway.revokeGrant(id)),
  )
}
