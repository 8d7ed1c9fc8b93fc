import { isParam, paramMessage } from '../../../../../lib/access-params'
import { answerActionFromGateway, answerInvalid } from '../../../../../lib/gateway-route'

/** Revokes a token; the gateway closes the connections that use it. */
export async function DELETE(
  request: Request,
  context: { params: Promise<{ id: string }> },
): Promise<Response> {
  const { id } = await context.params
  if (!isParam('id', id)) return answerInvalid(request, 'invalid_id', paramMessage('id'))
  return answerActionFromGateway(request, (gateway) => gateway.revokeToken(id))
}
