import { RegisterAgentKeyRequest } from '@parley/protocol/admin'
import { answerActionWithBody, answerFromGateway } from '../../../../lib/gateway-route'

/** Registered agent keys (Ed25519 identities). */
export function GET(request: Request): Promise<Response> {
  return answerFromGateway(request, (gateway) => gateway.agentKeys())
}

/** Registers an agent's public key (body `RegisterAgentKeyRequest`). */
export function POST(request: Request): Promise<Response> {
  return answerActionWithBody(request, RegisterAgentKeyRequest, (gateway, body) =>
    gateway.registerAgentKey(body),
  )
}
