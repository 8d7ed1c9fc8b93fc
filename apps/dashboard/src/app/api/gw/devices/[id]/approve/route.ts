import { ApproveDeviceRequest } from '@parley/protocol/admin'
import { answerActionWithBody, answerForId, type IdRouteContext } from '../../../../../../lib/gateway-route'

/** Approves a waiting device with a role and scopes (body `ApproveDeviceRequest`): it gets its token. */
export function POST(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (id) =>
    answerActionWithBody(request, ApproveDeviceRequest, (gateway, body) => gateway.approveDevice(id, body)),
  )
}
