import { answerFromGateway, answerInvalid } from '../../../../../lib/gateway-route'
import { parseMcpToolsRequest } from '../../../../../lib/upstream-requests'

/** The tools `/mcp` lists, with call and error counts; `?as=<principal>&role=` lists what that one sees. */
export function GET(request: Request): Promise<Response> | Response {
  const parsed = parseMcpToolsRequest(new URL(request.url).searchParams)
  if (!parsed.ok) return answerInvalid(request, 'invalid_filter', parsed.message)
  return answerFromGateway(request, (gateway) => gateway.mcpTools(parsed.request))
}
