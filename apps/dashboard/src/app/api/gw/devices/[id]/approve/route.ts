import { ApproveDeviceRequest } from '@parley/protocol/admin'
import { isParam, paramMessage } from '../../../../../../lib/access-params'
import { answerActionWithBody, answerInvalid } from '../../../../../../lib/gateway-route'

/** Approves a waiting device with a role and scopes (body `ApproveDeviceRequest`): it gets its token. */
export async function POST(
  request: Request,
  context: { params: Promise<{ id: string }> },
): Promise<Response> {
  const { id } = await context.params
  if (!isParam('id', id)) return answerInvalid(request, 'invalid_id', paramMessage('id'))
  return answerActionWithBody(request, ApproveDeviceRequest, (gateway, body) =>
    gateway.approveDevice(id, body),
  )
}
