import { isParam, paramMessage } from '../../../../../lib/access-params'
import { answerActionFromGateway, answerInvalid } from '../../../../../lib/gateway-route'

/** Revokes a grant; both parties get `grant_revoked`. */
export async function DELETE(
  request: Request,
  context: { params: Promise<{ id: string }> },
): Promise<Response> {
  const { id } = await context.params
  if (!isParam('id', id)) return answerInvalid(request, 'invalid_id', paramMessage('id'))
  return answerActionFromGateway(request, (gateway) => gateway.revokeGrant(id))
}
