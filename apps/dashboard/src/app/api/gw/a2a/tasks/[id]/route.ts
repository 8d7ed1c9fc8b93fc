import {
  answerForId,
  answerFromGateway,
  answerInvalid,
  type IdRouteContext,
} from '../../../../../../lib/gateway-route'
import { parseA2aTaskAgent } from '../../../../../../lib/upstream-requests'

/** One A2A task (`?agentId=` the agent serving it): state, status message and artifacts. */
export function GET(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (taskId) => {
    const parsed = parseA2aTaskAgent(new URL(request.url).searchParams)
    if (!parsed.ok) return answerInvalid(request, 'invalid_filter', parsed.message)
    return answerFromGateway(request, (gateway) =>
      gateway.a2aTask({ taskId, agentId: parsed.request.agentId }),
    )
  })
}
