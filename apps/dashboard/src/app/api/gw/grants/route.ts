import { parseGrantListRequest } from '../../../../lib/agent-requests'
import { answerFromGateway, answerInvalid } from '../../../../lib/gateway-route'

/** Live grants, newest first; `?all=true` adds the revoked ones. */
export function GET(request: Request): Promise<Response> | Response {
  const parsed = parseGrantListRequest(new URL(request.url).searchParams)
  if (!parsed.ok) return answerInvalid(request, 'invalid_filter', parsed.message)
  return answerFromGateway(request, (gateway) => gateway.grants(parsed.request))
}
