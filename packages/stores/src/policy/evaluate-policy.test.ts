import { describe, expect, it } from 'vitest'
import { comparePolicyRules, evaluatePolicy, matchesPattern, policyRuleMatches } from './evaluate-policy.js'
import type { PolicyRequest, PolicyRule } from './types.js'

let created = 0
function rule(overrides: Partial<PolicyRule> & Pick<PolicyRule, 'id'>): PolicyRule {
  created++
  return {
    effect: 'allow',
    actions: ['*'],
    subject: { kind: 'principal', pattern: '*' },
    target: { kind: 'principal', pattern: '*' },
    priority: 0,
    createdAt: created,
    updatedAt: created,
    ...overrides,
  }
}

const plannerToWorker: PolicyRequest = {
  action: 'message',
  subject: { principal: 'planner', role: 'agent', capabilities: ['plan', 'summarise'] },
  target: { principal: 'worker-1', capabilities: ['worker.translate'] },
}

describe('matchesPattern', () => {
  it('matches whole values, with * standing for any run of characters including none and dots', () => {
    expect(matchesPattern('alerts', 'alerts')).toBe(true)
    expect(matchesPattern('alerts', 'alerts2')).toBe(false)
    expect(matchesPattern('alerts', 'xalerts')).toBe(false)
    expect(matchesPattern('alerts.*', 'alerts.')).toBe(true)
    expect(matchesPattern('alerts.*', 'alerts.eu.west')).toBe(true)
    expect(matchesPattern('alerts.*', 'alerts')).toBe(false)
    expect(matchesPattern('*', '')).toBe(true)
    expect(matchesPattern('*', 'any thing\nat all')).toBe(true)
    expect(matchesPattern('*-bot', 'slack-bot')).toBe(true)
    expect(matchesPattern('*-bot', 'slack-bots')).toBe(false)
    expect(matchesPattern('a*b*c', 'aXXbYYc')).toBe(true)
    expect(matchesPattern('a*b*c', 'aXXcYYb')).toBe(false)
    expect(matchesPattern('a**c', 'ac')).toBe(true)
    expect(matchesPattern('', '')).toBe(true)
    expect(matchesPattern('', 'x')).toBe(false)
  })

  it('is case-sensitive and compares characters exactly', () => {
    expect(matchesPattern('Planner', 'planner')).toBe(false)
    expect(matchesPattern('caf\u00e9', 'cafe\u0301')).toBe(false)
    expect(matchesPattern('\u{1F600}*', '\u{1F600} grin')).toBe(true)
  })

  it('treats regular-expression metacharacters in a pattern literally', () => {
    expect(matchesPattern('a.c', 'abc')).toBe(false)
    expect(matchesPattern('a.c', 'a.c')).toBe(true)
    expect(matchesPattern('a+', 'aaa')).toBe(false)
    expect(matchesPattern('a+', 'a+')).toBe(true)
    expect(matchesPattern('a?', 'a')).toBe(false)
    expect(matchesPattern('[ab]', 'a')).toBe(false)
    expect(matchesPattern('[ab]', '[ab]')).toBe(true)
    expect(matchesPattern('^start', 'start')).toBe(false)
    expect(matchesPattern('end$', 'end')).toBe(false)
    expect(matchesPattern('(x|y)', 'x')).toBe(false)
    expect(matchesPattern('(x|y)*', '(x|y) and more')).toBe(true)
    expect(matchesPattern('\\d{2}', '12')).toBe(false)
    expect(matchesPattern('\\d{2}', '\\d{2}')).toBe(true)
    expect(matchesPattern('.*', 'anything')).toBe(false)
    expect(matchesPattern('.*', '.whatever')).toBe(true)
  })

  it('decides patterns built to make a backtracking matcher explode in time', () => {
    const pattern = `${'*a'.repeat(30)}*b`
    const value = 'a'.repeat(5_000)
    const started = performance.now()
    expect(matchesPattern(pattern, value)).toBe(false)
    expect(matchesPattern(pattern, `${value}b`)).toBe(true)
    // Generous bound for a loaded machine; exponential backtracking would take far longer than this.
    expect(performance.now() - started).toBeLessThan(2_000)
  })
})

describe('policyRuleMatches', () => {
  it('needs the action (or *), the subject and the target to match', () => {
    expect(policyRuleMatches(rule({ id: 'a', actions: ['message'] }), plannerToWorker)).toBe(true)
    expect(policyRuleMatches(rule({ id: 'b', actions: ['request', 'stream'] }), plannerToWorker)).toBe(false)
    expect(policyRuleMatches(rule({ id: 'c', actions: ['*'] }), plannerToWorker)).toBe(true)
    expect(
      policyRuleMatches(rule({ id: 'd', subject: { kind: 'principal', pattern: 'other' } }), plannerToWorker),
    ).toBe(false)
    expect(
      policyRuleMatches(
        rule({ id: 'e', target: { kind: 'principal', pattern: 'worker-2' } }),
        plannerToWorker,
      ),
    ).toBe(false)
  })

  it('matches subject kinds against principal, role and any capability of the subject', () => {
    const matches = (kind: PolicyRule['subject']['kind'], pattern: string) =>
      policyRuleMatches(rule({ id: `${kind}:${pattern}`, subject: { kind, pattern } }), plannerToWorker)
    expect(matches('principal', 'plan*')).toBe(true)
    expect(matches('role', 'agent')).toBe(true)
    expect(matches('role', 'admin')).toBe(false)
    expect(matches('capability', 'summarise')).toBe(true)
    expect(matches('capability', 'translate')).toBe(false)
    // A subject without a role or capabilities matches no role or capability rule, not even `*`.
    const bare: PolicyRequest = { ...plannerToWorker, subject: { principal: 'planner' } }
    expect(policyRuleMatches(rule({ id: 'r', subject: { kind: 'role', pattern: '*' } }), bare)).toBe(false)
    expect(policyRuleMatches(rule({ id: 'c', subject: { kind: 'capability', pattern: '*' } }), bare)).toBe(
      false,
    )
  })

  it('matches target kinds against principal, any capability and channel of the target', () => {
    const matches = (kind: PolicyRule['target']['kind'], pattern: string, request = plannerToWorker) =>
      policyRuleMatches(rule({ id: `${kind}:${pattern}`, target: { kind, pattern } }), request)
    expect(matches('principal', 'worker-*')).toBe(true)
    expect(matches('capability', 'worker.*')).toBe(true)
    expect(matches('capability', 'db.*')).toBe(false)
    expect(matches('channel', '*')).toBe(false)
    const publish: PolicyRequest = {
      action: 'publish',
      subject: { principal: 'planner' },
      target: { channel: 'alerts.eu' },
    }
    expect(matches('channel', 'alerts.*', publish)).toBe(true)
    expect(matches('principal', '*', publish)).toBe(false)
  })
})

describe('evaluatePolicy', () => {
  it('returns the default effect and no rule when nothing matches', () => {
    const rules = [rule({ id: 'other', subject: { kind: 'principal', pattern: 'someone-else' } })]
    expect(evaluatePolicy([], 'deny', plannerToWorker)).toEqual({ effect: 'deny', rule: undefined })
    expect(evaluatePolicy(rules, 'allow', plannerToWorker)).toEqual({ effect: 'allow', rule: undefined })
    expect(evaluatePolicy(rules, 'deny', plannerToWorker)).toEqual({ effect: 'deny', rule: undefined })
  })

  it('lets a matching rule override the default and returns it as the deciding rule', () => {
    const allow = rule({ id: 'allow-planner', subject: { kind: 'principal', pattern: 'planner' } })
    expect(evaluatePolicy([allow], 'deny', plannerToWorker)).toEqual({ effect: 'allow', rule: allow })
    const deny = rule({
      id: 'deny-planner',
      effect: 'deny',
      subject: { kind: 'principal', pattern: 'planner' },
    })
    expect(evaluatePolicy([deny], 'allow', plannerToWorker)).toEqual({ effect: 'deny', rule: deny })
  })

  it('lets deny win over allow at equal priority, whatever their order', () => {
    const allow = rule({ id: 'allow', priority: 5 })
    const deny = rule({
      id: 'deny',
      effect: 'deny',
      priority: 5,
      target: { kind: 'capability', pattern: 'worker.*' },
    })
    expect(evaluatePolicy([allow, deny], 'allow', plannerToWorker)).toEqual({ effect: 'deny', rule: deny })
    expect(evaluatePolicy([deny, allow], 'allow', plannerToWorker)).toEqual({ effect: 'deny', rule: deny })
  })

  it('at equal priority puts deny before require_introduction before allow, whatever their order', () => {
    const allow = rule({ id: 'allow', priority: 5 })
    const introduce = rule({ id: 'introduce', effect: 'require_introduction', priority: 5 })
    const deny = rule({ id: 'deny', effect: 'deny', priority: 5 })
    expect(evaluatePolicy([allow, introduce], 'allow', plannerToWorker)).toEqual({
      effect: 'require_introduction',
      rule: introduce,
    })
    expect(evaluatePolicy([introduce, allow], 'deny', plannerToWorker).rule).toBe(introduce)
    expect(evaluatePolicy([allow, introduce, deny], 'allow', plannerToWorker).rule).toBe(deny)
    expect([allow, deny, introduce].sort(comparePolicyRules).map((each) => each.id)).toEqual([
      'deny',
      'introduce',
      'allow',
    ])
    // A higher-priority allow still wins over a require_introduction below it.
    const allowHigh = rule({ id: 'allow-high', priority: 6 })
    expect(evaluatePolicy([introduce, allowHigh], 'deny', plannerToWorker).rule).toBe(allowHigh)
  })

  it('lets a higher-priority rule win over a lower one, allow over deny as well as deny over allow', () => {
    const denyAll = rule({ id: 'deny-all', effect: 'deny', priority: 0 })
    const allowPlanner = rule({
      id: 'allow-planner',
      priority: 10,
      subject: { kind: 'role', pattern: 'agent' },
    })
    expect(evaluatePolicy([denyAll, allowPlanner], 'deny', plannerToWorker).rule).toBe(allowPlanner)
    const denyHigh = rule({ id: 'deny-high', effect: 'deny', priority: 20, actions: ['message'] })
    expect(evaluatePolicy([denyAll, allowPlanner, denyHigh], 'allow', plannerToWorker).rule).toBe(denyHigh)
    // The high deny does not cover requests, so there the priority-10 allow decides.
    expect(
      evaluatePolicy([denyAll, allowPlanner, denyHigh], 'deny', { ...plannerToWorker, action: 'request' })
        .rule,
    ).toBe(allowPlanner)
  })

  it('skips non-matching rules of any priority', () => {
    const highOther = rule({ id: 'high-other', effect: 'deny', priority: 99, actions: ['subscribe'] })
    const low = rule({ id: 'low', priority: -3 })
    expect(evaluatePolicy([highOther, low], 'deny', plannerToWorker)).toEqual({ effect: 'allow', rule: low })
  })

  it('picks the same deciding rule among equals whatever the input order: oldest first, then smaller id', () => {
    const older = { ...rule({ id: 'z-older' }), createdAt: 1 }
    const newerA = { ...rule({ id: 'a-newer' }), createdAt: 2 }
    const newerB = { ...rule({ id: 'b-newer' }), createdAt: 2 }
    expect(evaluatePolicy([newerB, newerA, older], 'deny', plannerToWorker).rule).toBe(older)
    expect(evaluatePolicy([newerB, newerA], 'deny', plannerToWorker).rule).toBe(newerA)
    expect(evaluatePolicy([newerA, newerB], 'deny', plannerToWorker).rule).toBe(newerA)
    expect([newerB, older, newerA].sort(comparePolicyRules).map((r) => r.id)).toEqual([
      'z-older',
      'a-newer',
      'b-newer',
    ])
  })

  it('does not treat a pattern with regex metacharacters as a regex when deciding', () => {
    const allowDot = rule({ id: 'dot', subject: { kind: 'principal', pattern: 'plan.er' } })
    const allowPlus = rule({ id: 'plus', subject: { kind: 'principal', pattern: 'p+lanner' } })
    const allowClass = rule({ id: 'class', subject: { kind: 'principal', pattern: '[p]lanner' } })
    expect(evaluatePolicy([allowDot, allowPlus, allowClass], 'deny', plannerToWorker)).toEqual({
      effect: 'deny',
      rule: undefined,
    })
    const literal = { ...plannerToWorker, subject: { principal: 'plan.er' } }
    expect(evaluatePolicy([allowDot], 'deny', literal)).toEqual({ effect: 'allow', rule: allowDot })
  })
})
