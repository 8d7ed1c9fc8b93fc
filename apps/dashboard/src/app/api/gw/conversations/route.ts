import { parseConversationRequest } from '../../../../lib/agent-requests'
import { answerFromGateway, answerInvalid } from '../../../../lib/gateway-route'

/** The audit rows between `a` and `b`, oldest first; validated here so a bad query is a 400 that says why. */
export function GET(request: Request): Promise<Response> | Response {
  const parsed = parseConversationRequest(new URL(request.url).searchParams)
  if (!parsed.ok) return answerInvalid(request, 'invalid_filter', parsed.message)
  return answerFromGateway(request, (gateway) => gateway.conversation(parsed.request))
}
