import {
  answerActionFromGateway,
  answerForId,
  type IdRouteContext,
} from '../../../../../../lib/gateway-route'

/** Denies a waiting device: the gateway closes it with 4009. */
export function POST(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (id) =>
    answerActionFromGateway(request, (gateway) => gateway.denyDevice(id)),
  )
}
