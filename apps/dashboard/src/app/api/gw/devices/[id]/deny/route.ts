import { isParam, paramMessage } from '../../../../../../lib/access-params'
import { answerActionFromGateway, answerInvalid } from '../../../../../../lib/gateway-route'

/** Denies a waiting device: the gateway closes it with 4009. */
export async function POST(
  request: Request,
  context: { params: Promise<{ id: string }> },
): Promise<Response> {
  const { id } = await context.params
  if (!isParam('id', id)) return answerInvalid(request, 'invalid_id', paramMessage('id'))
  return answerActionFromGateway(request, (gateway) => gateway.denyDevice(id))
}
