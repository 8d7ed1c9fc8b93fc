import { UpdatePolicyRuleRequest } from '@parley/protocol/admin'
import { isParam, paramMessage } from '../../../../../../lib/access-params'
import {
  answerActionFromGateway,
  answerActionWithBody,
  answerInvalid,
} from '../../../../../../lib/gateway-route'

/**
 * One rule, under `/policies/rules/:id` rather than the gateway's `/policies/:id` so a rule named
 * `default` never collides with `/policies/default`.
 */
type Context = { params: Promise<{ id: string }> }

/** Changes a rule (body `UpdatePolicyRuleRequest`; `description: null` removes it). */
export async function PATCH(request: Request, context: Context): Promise<Response> {
  const { id } = await context.params
  if (!isParam('id', id)) return answerInvalid(request, 'invalid_id', paramMessage('id'))
  return answerActionWithBody(request, UpdatePolicyRuleRequest, (gateway, body) =>
    gateway.updatePolicyRule(id, body),
  )
}

/** Deletes a rule; the answer is `{ id, deleted: true }`. */
export async function DELETE(request: Request, context: Context): Promise<Response> {
  const { id } = await context.params
  if (!isParam('id', id)) return answerInvalid(request, 'invalid_id', paramMessage('id'))
  return answerActionFromGateway(request, (gateway) => gateway.deletePolicyRule(id))
}
