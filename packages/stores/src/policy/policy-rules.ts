import { randomBytes } from 'node:crypto'
import { InvalidPolicyRuleError } from '../errors.js'
import {
  type CreatePolicyRuleInput,
  POLICY_ACTIONS,
  POLICY_DEFAULT_EFFECTS,
  POLICY_EFFECTS,
  POLICY_SUBJECT_KINDS,
  POLICY_TARGET_KINDS,
  type PolicyDefaultEffect,
  type PolicyEffect,
  type PolicyRule,
  type PolicyRuleAction,
  type PolicyStoreOptions,
  type PolicySubject,
  type PolicyTarget,
  type UpdatePolicyRuleInput,
} from './types.js'

/** Limits on what a rule may hold, so one request cannot bloat every node's cached policy. */
export const MAX_POLICY_ID_LENGTH = 128
export const MAX_POLICY_PATTERN_LENGTH = 512
export const MAX_POLICY_DESCRIPTION_LENGTH = 2_000
const MIN_PRIORITY = -(2 ** 31)
const MAX_PRIORITY = 2 ** 31 - 1

export function newPolicyRuleId(): string {
  return `pol_${randomBytes(12).toString('base64url')}`
}

export function resolvePolicyStoreOptions(options: PolicyStoreOptions = {}): {
  defaultEffect: PolicyDefaultEffect
} {
  const defaultEffect = options.defaultEffect ?? 'deny'
  checkDefaultEffect(defaultEffect)
  return { defaultEffect }
}

function checkText(field: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidPolicyRuleError(field, `${field} must be a non-empty string.`)
  }
  if (value.length > maxLength) {
    throw new InvalidPolicyRuleError(field, `${field} is longer than ${maxLength} characters.`)
  }
  // Postgres text cannot hold NUL; refusing it here keeps memory and Postgres stores alike.
  if (value.includes('\u0000')) {
    throw new InvalidPolicyRuleError(field, `${field} must not contain NUL characters.`)
  }
  return value
}

export function checkEffect(effect: unknown, field = 'effect'): PolicyEffect {
  if (!POLICY_EFFECTS.includes(effect as PolicyEffect)) {
    throw new InvalidPolicyRuleError(field, `${field} must be one of ${POLICY_EFFECTS.join(', ')}.`)
  }
  return effect as PolicyEffect
}

/** The default effect: `allow` or `deny` only (`require_introduction` needs a rule naming the parties). */
export function checkDefaultEffect(effect: unknown, field = 'defaultEffect'): PolicyDefaultEffect {
  if (!POLICY_DEFAULT_EFFECTS.includes(effect as PolicyDefaultEffect)) {
    throw new InvalidPolicyRuleError(field, `${field} must be one of ${POLICY_DEFAULT_EFFECTS.join(', ')}.`)
  }
  return effect as PolicyDefaultEffect
}

const RULE_ACTIONS: readonly string[] = [...POLICY_ACTIONS, '*']

function checkActions(actions: unknown): PolicyRuleAction[] {
  if (!Array.isArray(actions) || actions.length === 0) {
    throw new InvalidPolicyRuleError('actions', 'actions must be a non-empty list.')
  }
  for (const action of actions) {
    if (!RULE_ACTIONS.includes(action)) {
      throw new InvalidPolicyRuleError(
        'actions',
        `Unknown action ${JSON.stringify(action)}; use ${RULE_ACTIONS.join(', ')}.`,
      )
    }
  }
  return [...new Set(actions as PolicyRuleAction[])]
}

function checkSide<Kind extends string>(
  field: 'subject' | 'target',
  side: unknown,
  kinds: readonly Kind[],
): { kind: Kind; pattern: string } {
  if (typeof side !== 'object' || side === null) {
    throw new InvalidPolicyRuleError(field, `${field} must be an object { kind, pattern }.`)
  }
  const { kind, pattern } = side as { kind?: unknown; pattern?: unknown }
  if (!kinds.includes(kind as Kind)) {
    throw new InvalidPolicyRuleError(`${field}.kind`, `${field}.kind must be one of ${kinds.join(', ')}.`)
  }
  return { kind: kind as Kind, pattern: checkText(`${field}.pattern`, pattern, MAX_POLICY_PATTERN_LENGTH) }
}

function checkPriority(priority: unknown): number {
  if (
    !Number.isInteger(priority) ||
    (priority as number) < MIN_PRIORITY ||
    (priority as number) > MAX_PRIORITY
  ) {
    throw new InvalidPolicyRuleError('priority', 'priority must be a 32-bit integer.')
  }
  return priority as number
}

function checkDescription(description: unknown): string | undefined {
  if (description === undefined || description === null) return undefined
  return checkText('description', description, MAX_POLICY_DESCRIPTION_LENGTH)
}

/** A validated, normalised rule (actions deduplicated), or `InvalidPolicyRuleError`. */
export function newPolicyRule(input: CreatePolicyRuleInput, now: number): PolicyRule {
  const rule: PolicyRule = {
    id: input.id === undefined ? newPolicyRuleId() : checkText('id', input.id, MAX_POLICY_ID_LENGTH),
    effect: checkEffect(input.effect),
    actions: checkActions(input.actions),
    subject: checkSide<PolicySubject['kind']>('subject', input.subject, POLICY_SUBJECT_KINDS),
    target: checkSide<PolicyTarget['kind']>('target', input.target, POLICY_TARGET_KINDS),
    priority: checkPriority(input.priority ?? 0),
    createdAt: now,
    updatedAt: now,
  }
  const description = checkDescription(input.description)
  if (description !== undefined) rule.description = description
  return rule
}

/** `rule` with `patch` applied and `updatedAt` set, validated like a new rule. */
export function patchPolicyRule(rule: PolicyRule, patch: UpdatePolicyRuleInput, now: number): PolicyRule {
  const next: PolicyRule = {
    id: rule.id,
    effect: patch.effect === undefined ? rule.effect : checkEffect(patch.effect),
    actions: patch.actions === undefined ? [...rule.actions] : checkActions(patch.actions),
    subject:
      patch.subject === undefined
        ? { ...rule.subject }
        : checkSide<PolicySubject['kind']>('subject', patch.subject, POLICY_SUBJECT_KINDS),
    target:
      patch.target === undefined
        ? { ...rule.target }
        : checkSide<PolicyTarget['kind']>('target', patch.target, POLICY_TARGET_KINDS),
    priority: patch.priority === undefined ? rule.priority : checkPriority(patch.priority),
    createdAt: rule.createdAt,
    updatedAt: now,
  }
  const description = patch.description === undefined ? rule.description : checkDescription(patch.description)
  if (description !== undefined) next.description = description
  return next
}

export function clonePolicyRule(rule: PolicyRule): PolicyRule {
  const copy: PolicyRule = {
    ...rule,
    actions: [...rule.actions],
    subject: { ...rule.subject },
    target: { ...rule.target },
  }
  return copy
}
