import { isDeliveryIdParam } from '../../../../../lib/dlq-filters'
import { answerActionFromGateway, answerFromGateway, answerInvalid } from '../../../../../lib/gateway-route'

type Context = { params: Promise<{ id: string }> }

/** One dead letter with its data. */
export async function GET(request: Request, context: Context): Promise<Response> {
  const { id } = await context.params
  if (!isDeliveryIdParam(id)) return answerInvalid(request, 'invalid_id', 'id must be 1 to 64 characters')
  return answerFromGateway(request, (gateway) => gateway.deadLetter(id))
}

/** Purges one dead letter. */
export async function DELETE(request: Request, context: Context): Promise<Response> {
  const { id } = await context.params
  if (!isDeliveryIdParam(id)) return answerInvalid(request, 'invalid_id', 'id must be 1 to 64 characters')
  return answerActionFromGateway(request, (gateway) => gateway.purgeDeadLetter(id))
}
