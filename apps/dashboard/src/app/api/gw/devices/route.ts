import { answerFromGateway } from '../../../../lib/gateway-route'

/** Pending device pairing requests. */
export function GET(request: Request): Promise<Response> {
  return answerFromGateway(request, (gateway) => gateway.devices())
}
