import { isParam, paramMessage } from '../../../../../lib/access-params'
import { answerActionFromGateway, answerInvalid } from '../../../../../lib/gateway-route'

/** Revokes an agent key; the gateway closes the connections authenticated with it. */
export async function DELETE(
  request: Request,
  context: { params: Promise<{ id: string }> },
): Promise<Response> {
  const { id } = await context.params
  if (!isParam('agentKeyId', id)) return answerInvalid(request, 'invalid_id', paramMessage('agentKeyId'))
  return answerActionFromGateway(request, (gateway) => gateway.revokeAgentKey(id))
}
