import {
  CreatePolicyRuleRequest,
  POLICY_ACTIONS,
  POLICY_EFFECTS,
  type PolicyRuleInfo,
  UpdatePolicyRuleRequest,
} from '@parley/protocol/admin'
import type { z } from 'zod'
import type { FormResult } from './access-forms'
import { describeIssues } from './search-params'

/**
 * The Policies page's rule form as request bodies: what the operator typed, turned into the protocol's
 * `CreatePolicyRuleRequest` / `UpdatePolicyRuleRequest`, or one message naming each wrong field. The
 * dashboard's route validates again with the same schemas; the gateway has the last word (its error
 * envelope is shown as it is).
 */

export const RULE_ACTIONS = ['*', ...POLICY_ACTIONS] as const
export const RULE_EFFECTS = POLICY_EFFECTS
export const SUBJECT_KINDS = ['principal', 'role', 'capability'] as const
export const TARGET_KINDS = ['principal', 'capability', 'channel'] as const

export interface PolicyRuleForm {
  /** Only when creating; empty lets the gateway choose one. */
  id: string
  effect: string
  actions: string[]
  subjectKind: string
  subjectPattern: string
  targetKind: string
  targetPattern: string
  /** Empty lets the gateway use its default (0). */
  priority: string
  description: string
}

export const EMPTY_RULE_FORM: PolicyRuleForm = {
  id: '',
  effect: 'deny',
  actions: [],
  subjectKind: 'principal',
  subjectPattern: '',
  targetKind: 'principal',
  targetPattern: '',
  priority: '',
  description: '',
}

const HINTS: Record<string, string> = {
  id: 'id: 1 to 64 letters, digits, _ - or . (or leave it empty)',
  effect: `effect must be one of ${RULE_EFFECTS.join(', ')}`,
  actions: `actions: choose at least one of ${RULE_ACTIONS.join(', ')}`,
  subject: 'subject: choose a kind and type a pattern (1 to 200 characters, * matches anything)',
  target: 'target: choose a kind and type a pattern (1 to 200 characters, * matches anything)',
  priority: 'priority must be a whole number from -1000000 to 1000000',
  description: 'description: up to 500 characters',
}

/** The form of an existing rule, for editing it. */
export function ruleToForm(rule: PolicyRuleInfo): PolicyRuleForm {
  return {
    id: rule.id,
    effect: rule.effect,
    actions: [...rule.actions],
    subjectKind: rule.subject.kind,
    subjectPattern: rule.subject.pattern,
    targetKind: rule.target.kind,
    targetPattern: rule.target.pattern,
    priority: String(rule.priority),
    description: rule.description ?? '',
  }
}

/** `12` → 12; empty → undefined; anything else is left for the schema to refuse with the priority hint. */
function priorityOf(text: string): number | string | undefined {
  const trimmed = text.trim()
  if (trimmed === '') return undefined
  return /^[-+]?\d+$/.test(trimmed) ? Number(trimmed) : trimmed
}

/** `*` alone stands for every action: listing others beside it says nothing more. */
function actionsOf(actions: readonly string[]): string[] {
  const chosen = RULE_ACTIONS.filter((action) => actions.includes(action))
  return chosen.includes('*') ? ['*'] : chosen
}

function fields(form: PolicyRuleForm) {
  const priority = priorityOf(form.priority)
  return {
    effect: form.effect,
    actions: actionsOf(form.actions),
    subject: { kind: form.subjectKind, pattern: form.subjectPattern.trim() },
    target: { kind: form.targetKind, pattern: form.targetPattern.trim() },
    ...(priority === undefined ? {} : { priority }),
  }
}

/** The create form as a `CreatePolicyRuleRequest` body (empty id, priority and description left out). */
export function ruleFormToCreateRequest(form: PolicyRuleForm): FormResult<CreatePolicyRuleRequest> {
  const id = form.id.trim()
  const description = form.description.trim()
  return validated(CreatePolicyRuleRequest, {
    ...(id === '' ? {} : { id }),
    ...(description === '' ? {} : { description }),
    ...fields(form),
  })
}

/**
 * The edit form as an `UpdatePolicyRuleRequest` body: every field is sent, so what the form shows is what
 * the rule becomes; an emptied description is removed (`null`), an emptied priority becomes 0.
 */
export function ruleFormToUpdateRequest(form: PolicyRuleForm): FormResult<UpdatePolicyRuleRequest> {
  const description = form.description.trim()
  const { priority, ...rest } = fields(form)
  return validated(UpdatePolicyRuleRequest, {
    ...rest,
    priority: priority ?? 0,
    description: description === '' ? null : description,
  })
}

function validated<T>(schema: z.ZodType<T>, body: unknown): FormResult<T> {
  const parsed = schema.safeParse(body)
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error, HINTS) }
  return { ok: true, request: parsed.data }
}

/** `principal:billing-*`, the way a rule's subject or target reads in the table. */
export function formatMatcher(matcher: { kind: string; pattern: string }): string {
  return `${matcher.kind}:${matcher.pattern}`
}
