import { describe, expect, it } from 'vitest'
import { policyList } from '@/test-support/agent-fixtures'
import {
  EMPTY_RULE_FORM,
  type PolicyRuleForm,
  ruleFormToCreateRequest,
  ruleFormToUpdateRequest,
  ruleToForm,
} from './policy-forms'

const filled: PolicyRuleForm = {
  ...EMPTY_RULE_FORM,
  actions: ['request', 'message'],
  subjectPattern: ' planner-* ',
  targetPattern: 'billing',
  targetKind: 'capability',
}

describe('policy rule forms', () => {
  it('build a create body without the empty id, priority and description, actions in protocol order', () => {
    expect(ruleFormToCreateRequest(filled)).toEqual({
      ok: true,
      request: {
        effect: 'deny',
        actions: ['message', 'request'],
        subject: { kind: 'principal', pattern: 'planner-*' },
        target: { kind: 'capability', pattern: 'billing' },
      },
    })
  })

  it('keep only * when every action is chosen alongside others', () => {
    const result = ruleFormToCreateRequest({ ...filled, actions: ['stream', '*'] })
    expect(result.ok && result.request.actions).toEqual(['*'])
  })

  it('refuse a bad id, an unknown effect and a fractional priority, naming each field', () => {
    const result = ruleFormToCreateRequest({ ...filled, id: 'has space', effect: 'maybe', priority: '1.5' })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.message).toContain('id: 1 to 64 letters')
    expect(result.message).toContain('effect must be one of allow, deny, require_introduction')
    expect(result.message).toContain('priority must be a whole number')
  })

  it('round-trip a rule through the edit form into an update body that sends every field', () => {
    const rule = policyList.rules[1]
    if (rule === undefined) throw new Error('fixture')
    expect(ruleFormToUpdateRequest(ruleToForm(rule))).toEqual({
      ok: true,
      request: {
        effect: 'require_introduction',
        actions: ['message', 'request'],
        subject: { kind: 'role', pattern: 'agent' },
        target: { kind: 'capability', pattern: 'invoices' },
        priority: 10,
        description: null,
      },
    })
  })
})
