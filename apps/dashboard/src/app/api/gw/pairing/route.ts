import { answerFromGateway } from '../../../../lib/gateway-route'

/** Pending chat pairing requests and paired senders. */
export function GET(request: Request): Promise<Response> {
  return answerFromGateway(request, (gateway) => gateway.pairing())
}
