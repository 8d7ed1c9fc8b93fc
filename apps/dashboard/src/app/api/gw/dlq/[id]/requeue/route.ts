import { isDeliveryIdParam } from '../../../../../../lib/dlq-filters'
import { answerActionFromGateway, answerInvalid } from '../../../../../../lib/gateway-route'

/** Puts a dead letter back in its recipient's queue with a fresh retry budget. */
export async function POST(
  request: Request,
  context: { params: Promise<{ id: string }> },
): Promise<Response> {
  const { id } = await context.params
  if (!isDeliveryIdParam(id)) return answerInvalid(request, 'invalid_id', 'id must be 1 to 64 characters')
  return answerActionFromGateway(request, (gateway) => gateway.requeueDeadLetter(id))
}
