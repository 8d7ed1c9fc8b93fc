import {
  answerActionFromGateway,
  answerForId,
  type IdRouteContext,
} from '../../../../../../../lib/gateway-route'

/** Pairs the sender who asked (also when wrong codes locked the request). */
export function POST(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (id) =>
    answerActionFromGateway(request, (gateway) => gateway.approvePairing(id)),
  )
}
