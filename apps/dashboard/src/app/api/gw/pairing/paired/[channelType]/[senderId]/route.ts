import { isParam, paramMessage } from '../../../../../../../lib/access-params'
import { answerActionFromGateway, answerInvalid } from '../../../../../../../lib/gateway-route'

type Context = { params: Promise<{ channelType: string; senderId: string }> }

/** Revokes a paired sender: it must pair again before it can talk to the agents. */
export async function DELETE(request: Request, context: Context): Promise<Response> {
  const { channelType, senderId } = await context.params
  if (!isParam('channelType', channelType)) {
    return answerInvalid(request, 'invalid_id', paramMessage('channelType'))
  }
  if (!isParam('senderId', senderId)) return answerInvalid(request, 'invalid_id', paramMessage('senderId'))
  return answerActionFromGateway(request, (gateway) => gateway.revokePairedSender(channelType, senderId))
}
