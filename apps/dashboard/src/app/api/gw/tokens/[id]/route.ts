import { answerActionFromGateway, answerForId, type IdRouteContext } from '../../../../../lib/gateway-route'

/** Revokes a token; the gateway closes the connections that use it. */
export function DELETE(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (id) =>
    answerActionFromGateway(request, (gateway) => gateway.revokeToken(id)),
  )
}
