import {
  answerActionFromGateway,
  answerForId,
  type IdRouteContext,
} from '../../../../../../lib/gateway-route'

/** Removes an external A2A agent: its instances leave the registry. */
export function DELETE(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (agentId) =>
    answerActionFromGateway(request, (gateway) => gateway.removeA2aAgent(agentId)),
  )
}
