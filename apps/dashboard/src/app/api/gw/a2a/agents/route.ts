import { AddA2aAgentRequest } from '@parley/protocol/admin'
import { answerActionWithBody, answerFromGateway } from '../../../../../lib/gateway-route'

/** External A2A agents with the health of each instance URL (never their credentials). */
export function GET(request: Request): Promise<Response> {
  return answerFromGateway(request, (gateway) => gateway.a2aAgents())
}

/** Registers an external A2A agent (body `AddA2aAgentRequest`): its card URLs, id and credentials. */
export function POST(request: Request): Promise<Response> {
  return answerActionWithBody(request, AddA2aAgentRequest, (gateway, body) => gateway.addA2aAgent(body))
}
