import { SetPolicyDefaultRequest } from '@parley/protocol/admin'
import { answerActionWithBody } from '../../../../../lib/gateway-route'

/** Sets the effect that decides when no rule matches (body `{ effect: "allow" | "deny" }`). */
export function PUT(request: Request): Promise<Response> {
  return answerActionWithBody(request, SetPolicyDefaultRequest, (gateway, body) =>
    gateway.setPolicyDefault(body.effect),
  )
}
