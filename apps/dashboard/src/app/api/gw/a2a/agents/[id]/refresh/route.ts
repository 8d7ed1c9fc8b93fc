import {
  answerActionFromGateway,
  answerForId,
  type IdRouteContext,
} from '../../../../../../../lib/gateway-route'

/** Fetches an external A2A agent's cards again now. */
export function POST(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (agentId) =>
    answerActionFromGateway(request, (gateway) => gateway.refreshA2aAgent(agentId)),
  )
}
