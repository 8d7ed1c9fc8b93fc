import type { AuditRecord } from '@parley/stores'
import { Counter, type Registry } from 'prom-client'
import { denialRule } from '../access/access-gate.js'
import { boundedLabel } from './bounded-labels.js'

/** Distinct rule ids counted by name; more are counted as `_other`. */
const MAX_RULES = 500

/**
 * Counts what the audit trail records, as it is recorded (before the audit log's writer, so the counts hold
 * with `audit.enabled` off too): every interaction by kind and outcome, and refusals by the rule that refused
 * them. Created before the registry (the audit is wired first), registered into it with `register`.
 */
export function createAuditMetrics() {
  const events = new Counter({
    name: 'parley_interactions_total',
    help: 'Interactions as the audit trail records them, by kind (publish, request, reply, stream, …) and outcome.',
    labelNames: ['kind', 'outcome'],
    registers: [],
  })
  const denials = new Counter({
    name: 'parley_access_denials_total',
    help: 'Refusals by kind and rule: a policy rule id, default (the default effect) or scope (token scopes).',
    labelNames: ['kind', 'rule'],
    registers: [],
  })
  const ruleName = boundedLabel(MAX_RULES)
  return {
    observe(entry: AuditRecord): void {
      events.inc({ kind: entry.kind, outcome: entry.outcome })
      if (entry.outcome === 'denied') {
        denials.inc({ kind: entry.kind, rule: ruleName(denialRule(entry.detail ?? null)) })
      }
    },
    register(registry: Registry): void {
      registry.registerMetric(events)
      registry.registerMetric(denials)
    },
  }
}

export type AuditMetrics = ReturnType<typeof createAuditMetrics>
