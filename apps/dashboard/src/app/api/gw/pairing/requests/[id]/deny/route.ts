import {
  answerActionFromGateway,
  answerForId,
  type IdRouteContext,
} from '../../../../../../../lib/gateway-route'

/** Denies a chat pairing request; the connector hears `pairing_resolved` denied. */
export function POST(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (id) =>
    answerActionFromGateway(request, (gateway) => gateway.denyPairing(id)),
  )
}
