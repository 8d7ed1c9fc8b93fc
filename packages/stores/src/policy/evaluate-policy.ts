import type {
  PolicyDecision,
  PolicyDefaultEffect,
  PolicyEffect,
  PolicyRequest,
  PolicyRule,
  PolicySubject,
  PolicyTarget,
} from './types.js'

/**
 * Whether `value` matches `pattern` as a whole: `*` matches any run of characters (also none and also
 * dots), every other character only itself, so regex metacharacters need no escaping. No RegExp is built:
 * the classic two-pointer walk is O(pattern × value) at worst, whatever the pattern, so a rule written in
 * the dashboard cannot make evaluation blow up.
 */
export function matchesPattern(pattern: string, value: string): boolean {
  let p = 0
  let v = 0
  // Where the last `*` was, and the value position it currently stands for the end of.
  let star = -1
  let starValue = 0
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++
      starValue = v
    } else if (p < pattern.length && pattern[p] === value[v]) {
      p++
      v++
    } else if (star !== -1) {
      // Let the last `*` swallow one more character and retry from there.
      p = star + 1
      v = ++starValue
    } else {
      return false
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++
  return p === pattern.length
}

/** At equal priority the stricter effect goes first. */
const EFFECT_RANK: Record<PolicyEffect, number> = { deny: 0, require_introduction: 1, allow: 2 }

/**
 * Evaluation order: priority descending; at equal priority deny, then require_introduction, then allow;
 * then the older rule, then the smaller id (by UTF-16 code units), so every node orders the same rules
 * the same way.
 */
export function comparePolicyRules(a: PolicyRule, b: PolicyRule): number {
  if (a.priority !== b.priority) return b.priority - a.priority
  if (a.effect !== b.effect) return EFFECT_RANK[a.effect] - EFFECT_RANK[b.effect]
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

function anyMatches(pattern: string, values: readonly string[] | undefined): boolean {
  return values?.some((value) => matchesPattern(pattern, value)) ?? false
}

function subjectMatches(subject: PolicySubject, request: PolicyRequest['subject']): boolean {
  switch (subject.kind) {
    case 'principal':
      return matchesPattern(subject.pattern, request.principal)
    case 'role':
      return request.role !== undefined && matchesPattern(subject.pattern, request.role)
    case 'capability':
      return anyMatches(subject.pattern, request.capabilities)
  }
}

function targetMatches(target: PolicyTarget, request: PolicyRequest['target']): boolean {
  switch (target.kind) {
    case 'principal':
      return request.principal !== undefined && matchesPattern(target.pattern, request.principal)
    case 'capability':
      return anyMatches(target.pattern, request.capabilities)
    case 'channel':
      return request.channel !== undefined && matchesPattern(target.pattern, request.channel)
  }
}

/** Whether `rule` applies to `request`: its actions include the request's (or `*`), subject and target match. */
export function policyRuleMatches(rule: PolicyRule, request: PolicyRequest): boolean {
  return (
    (rule.actions.includes('*') || rule.actions.includes(request.action)) &&
    subjectMatches(rule.subject, request.subject) &&
    targetMatches(rule.target, request.target)
  )
}

/**
 * Decides `request`: the first matching rule in evaluation order (`comparePolicyRules`) decides, so a
 * higher priority wins and, at equal priority, deny wins over require_introduction, which wins over allow. With no matching rule the default
 * effect decides and `rule` is undefined. `rules` may come in any order.
 */
export function evaluatePolicy(
  rules: readonly PolicyRule[],
  defaultEffect: PolicyDefaultEffect,
  request: PolicyRequest,
): PolicyDecision {
  let deciding: PolicyRule | undefined
  for (const rule of rules) {
    if (deciding !== undefined && comparePolicyRules(rule, deciding) >= 0) continue
    if (policyRuleMatches(rule, request)) deciding = rule
  }
  return deciding === undefined
    ? { effect: defaultEffect, rule: undefined }
    : { effect: deciding.effect, rule: deciding }
}
