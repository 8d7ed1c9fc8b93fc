import { PolicyRuleExistsError } from '../errors.js'
import { comparePolicyRules } from './evaluate-policy.js'
import {
  checkDefaultEffect,
  clonePolicyRule,
  newPolicyRule,
  patchPolicyRule,
  resolvePolicyStoreOptions,
} from './policy-rules.js'
import type { PolicyDefaultEffect, PolicyRule, PolicyStore, PolicyStoreOptions } from './types.js'

/** Policy rules in memory: one node only, gone on restart. */
export function createMemoryPolicyStore(options: PolicyStoreOptions = {}): PolicyStore {
  const rules = new Map<string, PolicyRule>()
  let defaultEffect: PolicyDefaultEffect = resolvePolicyStoreOptions(options).defaultEffect
  let version = 0

  const sorted = () => [...rules.values()].sort(comparePolicyRules).map(clonePolicyRule)

  return {
    async list() {
      return sorted()
    },

    async get(id) {
      const rule = rules.get(id)
      return rule === undefined ? undefined : clonePolicyRule(rule)
    },

    async create(input, now) {
      const rule = newPolicyRule(input, now)
      if (rules.has(rule.id)) throw new PolicyRuleExistsError(rule.id)
      rules.set(rule.id, rule)
      version++
      return clonePolicyRule(rule)
    },

    async update(id, patch, now) {
      const rule = rules.get(id)
      if (rule === undefined) return undefined
      const next = patchPolicyRule(rule, patch, now)
      rules.set(id, next)
      version++
      return clonePolicyRule(next)
    },

    async delete(id) {
      if (!rules.delete(id)) return false
      version++
      return true
    },

    async getDefault() {
      return defaultEffect
    },

    async setDefault(effect) {
      checkDefaultEffect(effect)
      if (effect === defaultEffect) return
      defaultEffect = effect
      version++
    },

    async version() {
      return version
    },

    async snapshot() {
      return { version, defaultEffect, rules: sorted() }
    },
  }
}
