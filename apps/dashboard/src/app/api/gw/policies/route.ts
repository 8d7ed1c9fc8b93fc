import { CreatePolicyRuleRequest } from '@parley/protocol/admin'
import { answerActionWithBody, answerFromGateway } from '../../../../lib/gateway-route'

/** The rules in evaluation order, the default effect and the policy version. */
export function GET(request: Request): Promise<Response> {
  return answerFromGateway(request, (gateway) => gateway.policies())
}

/** Adds a rule (body `CreatePolicyRuleRequest`). */
export function POST(request: Request): Promise<Response> {
  return answerActionWithBody(request, CreatePolicyRuleRequest, (gateway, body) =>
    gateway.createPolicyRule(body),
  )
}
