import { CreateTokenRequest } from '@parley/protocol/admin'
import { answerActionWithBody, answerFromGateway } from '../../../../lib/gateway-route'

/** API tokens, newest first, revoked ones included (never their secrets). */
export function GET(request: Request): Promise<Response> {
  return answerFromGateway(request, (gateway) => gateway.tokens())
}

/** Creates a token (body `CreateTokenRequest`); the answer carries its secret, this once. */
export function POST(request: Request): Promise<Response> {
  return answerActionWithBody(request, CreateTokenRequest, (gateway, body) => gateway.createToken(body))
}
