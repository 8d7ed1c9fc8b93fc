import type { PolicyList, PolicyRuleInfo } from '@parley/protocol'
import type { PolicyRule, PolicyStore } from '@parley/stores'
import { GatewayError } from '../errors.js'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

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

  // The table puts `/policies/default` before `/policies/:id`, so `default` is never taken for a rule id.
  mountAdminRoutes(app, {
    policies: () => policyList(),
    setPolicyDefault: async (c, input) => {
      const request = await input.body()
      c.set('adminAction', `policy default ${request.effect}`)
      await deps.policies().setDefault(request.effect, now())
      await deps.changed()
      return policyList()
    },
    createPolicyRule: async (c, input) => {
      const request = await input.body()
      c.set('adminAction', `policy create ${request.id ?? '(new id)'}`)
      const rule = await deps.policies().create(request, now())
      c.set('adminAction', `policy create ${rule.id} ${rule.effect} ${rule.actions.join(',')}`)
      await deps.changed()
      return policyRuleInfo(rule)
    },
    updatePolicyRule: async (c, input) => {
      const { id } = input.params
      c.set('adminAction', `policy update ${id}`)
      const request = await input.body()
      const rule = await deps.policies().update(id, request, now())
      if (rule === undefined) throw new GatewayError('not_found', `no policy rule ${id}`)
      await deps.changed()
      return policyRuleInfo(rule)
    },
    deletePolicyRule: async (c, { params: { id } }) => {
      c.set('adminAction', `policy delete ${id}`)
      if (!(await deps.policies().delete(id, now())))
        throw new GatewayError('not_found', `no policy rule ${id}`)
      await deps.changed()
    },
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
