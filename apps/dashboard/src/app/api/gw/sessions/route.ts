import { answerActionFromGateway, answerFromGateway } from '../../../../lib/gateway-route'

/** Live dashboard sessions (never their secrets); the caller's is marked `current`. */
export function GET(request: Request): Promise<Response> {
  return answerFromGateway(request, (gateway) => gateway.sessions())
}

/** "Log out everywhere": ends every dashboard session, this browser's included. */
export function DELETE(request: Request): Promise<Response> | Response {
  return answerActionFromGateway(request, (gateway) => gateway.revokeAllSessions())
}
