import { answerFromGateway } from '../../../../lib/gateway-route'

export function GET(request: Request): Promise<Response> {
  return answerFromGateway(request, (gateway) => gateway.presence())
}
