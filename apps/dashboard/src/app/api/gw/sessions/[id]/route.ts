import { answerActionFromGateway, answerForId, type IdRouteContext } from '../../../../../lib/gateway-route'

/** Ends one dashboard session by its public id. */
export function DELETE(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (id) =>
    answerActionFromGateway(request, (gateway) => gateway.revokeSession(id)),
  )
}
