import { answerActionFromGateway, answerForId, type IdRouteContext } from '../../../../../lib/gateway-route'

/** Revokes an agent key; the gateway closes the connections authenticated with it. */
export function DELETE(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(
    request,
    context,
    (id) => answerActionFromGateway(request, (gateway) => gateway.revokeAgentKey(id)),
    'agentKeyId',
  )
}
