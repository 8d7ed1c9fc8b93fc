import {
  CreatePolicyRuleRequest,
  type PolicyList,
  type PolicyRuleInfo,
  SetPolicyDefaultRequest,
  UpdatePolicyRuleRequest,
} from '@parley/protocol'
import type { PolicyRule, PolicyStore } from '@parley/stores'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'
import { parseBody } from './request-body.js'

export interface PolicyRouteDeps {
  policies: () => PolicyStore
  /** Reloads the policies on every live node; resolves once they acknowledged (or a bounded wait passed). */
  changed: () => Promise<void>
  now?: () => number
}

/**
 * Policy rules and the default effect: `GET /api/admin/policies`, `POST` (create), `PATCH` / `DELETE
 * /api/admin/policies/:id` and `PUT /api/admin/policies/default`. A change answers only after every node
 * reloaded it, so the next frame on any node sees it.
 */
export function registerPolicyRoutes(app: GatewayApp, deps: PolicyRouteDeps): void {
  const now = deps.now ?? Date.now

  async function policyList(): Promise<PolicyList> {
    const snapshot = await deps.policies().snapshot()
    return {
      version: snapshot.version,
      defaultEffect: snapshot.defaultEffect,
      rules: snapshot.rules.map(policyRuleInfo),
    }
  }

  app.get('/api/admin/policies', async (c) => c.json(await policyList()))

  // Registered before `/:id` routes so `default` is never taken for a rule id.
  app.put('/api/admin/policies/default', async (c) => {
    const request = parseBody(
      SetPolicyDefaultRequest,
      await c.req.json().catch(() => undefined),
      'policy default',
    )
    c.set('adminAction', `policy default ${request.effect}`)
    await deps.policies().setDefault(request.effect, now())
    await deps.changed()
    return c.json(await policyList())
  })

  app.post('/api/admin/policies', async (c) => {
    const request = parseBody(
      CreatePolicyRuleRequest,
      await c.req.json().catch(() => undefined),
      'policy rule',
    )
    c.set('adminAction', `policy create ${request.id ?? '(new id)'}`)
    const rule = await deps.policies().create(request, now())
    c.set('adminAction', `policy create ${rule.id} ${rule.effect} ${rule.actions.join(',')}`)
    await deps.changed()
    const body: PolicyRuleInfo = policyRuleInfo(rule)
    return c.json(body, 201)
  })

  app.patch('/api/admin/policies/:id', async (c) => {
    const id = c.req.param('id')
    c.set('adminAction', `policy update ${id}`)
    const request = parseBody(
      UpdatePolicyRuleRequest,
      await c.req.json().catch(() => undefined),
      'policy rule update',
    )
    const rule = await deps.policies().update(id, request, now())
    if (rule === undefined) throw new GatewayError('not_found', `no policy rule ${id}`)
    await deps.changed()
    const body: PolicyRuleInfo = policyRuleInfo(rule)
    return c.json(body)
  })

  app.delete('/api/admin/policies/:id', async (c) => {
    const id = c.req.param('id')
    c.set('adminAction', `policy delete ${id}`)
    if (!(await deps.policies().delete(id, now())))
      throw new GatewayError('not_found', `no policy rule ${id}`)
    await deps.changed()
    return c.body(null, 204)
  })
}

export function policyRuleInfo(rule: PolicyRule): PolicyRuleInfo {
  return {
    id: rule.id,
    description: rule.description ?? null,
    effect: rule.effect,
    actions: [...rule.actions],
    subject: { ...rule.subject },
    target: { ...rule.target },
    priority: rule.priority,
    createdAt: new Date(rule.createdAt).toISOString(),
    updatedAt: new Date(rule.updatedAt).toISOString(),
  }
}
