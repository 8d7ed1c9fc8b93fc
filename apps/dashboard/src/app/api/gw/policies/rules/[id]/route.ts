import { UpdatePolicyRuleRequest } from '@parley/protocol/admin'
import {
  answerActionFromGateway,
  answerActionWithBody,
  answerForId,
  type IdRouteContext,
} from '../../../../../../lib/gateway-route'

// One rule, under `/policies/rules/:id` rather than the gateway's `/policies/:id` so a rule named
// `default` never collides with `/policies/default`.

/** Changes a rule (body `UpdatePolicyRuleRequest`; `description: null` removes it). */
export function PATCH(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (id) =>
    answerActionWithBody(request, UpdatePolicyRuleRequest, (gateway, body) =>
      gateway.updatePolicyRule(id, body),
    ),
  )
}

/** Deletes a rule; the answer is `{ id, deleted: true }`. */
export function DELETE(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (id) =>
    answerActionFromGateway(request, (gateway) => gateway.deletePolicyRule(id)),
  )
}
