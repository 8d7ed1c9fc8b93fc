import { parseAgentListRequest } from '../../../../lib/agent-requests'
import { answerFromGateway, answerInvalid } from '../../../../lib/gateway-route'

/** Every registered agent with its instances; `?capability=` keeps those that have it. */
export function GET(request: Request): Promise<Response> | Response {
  const parsed = parseAgentListRequest(new URL(request.url).searchParams)
  if (!parsed.ok) return answerInvalid(request, 'invalid_filter', parsed.message)
  return answerFromGateway(request, (gateway) => gateway.agents(parsed.request))
}
