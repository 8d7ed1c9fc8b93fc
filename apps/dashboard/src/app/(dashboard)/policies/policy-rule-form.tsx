'use client'

import type { CreatePolicyRuleRequest, UpdatePolicyRuleRequest } from '@parley/protocol/admin'
import { type FormEvent, useState } from 'react'
import { PrincipalPicker } from '@/components/principal-picker'
import {
  EMPTY_RULE_FORM,
  RULE_ACTIONS,
  RULE_EFFECTS,
  type PolicyRuleForm as RuleForm,
  ruleFormToCreateRequest,
  ruleFormToUpdateRequest,
  SUBJECT_KINDS,
  TARGET_KINDS,
} from '@/lib/policy-forms'

type Props = {
  busy: boolean
  onCancel?: () => void
} & (
  | {
      mode: 'create'
      /** Resolves true when the gateway created the rule: the form empties. */
      onSubmit: (request: CreatePolicyRuleRequest) => Promise<boolean>
    }
  | {
      mode: 'edit'
      ruleId: string
      initial: RuleForm
      /** Resolves true when the gateway saved the rule: the form closes. */
      onSubmit: (request: UpdatePolicyRuleRequest) => Promise<boolean>
    }
)

function Select({
  label,
  value,
  options,
  onChange,
  testId,
}: {
  label: string
  value: string
  options: readonly string[]
  onChange: (value: string) => void
  testId: string
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </label>
  )
}

/** Creates a rule, or edits one (`mode: 'edit'`); the test ids are prefixed `policy-create-` / `policy-edit-`. */
export function PolicyRuleForm(props: Props) {
  const editing = props.mode === 'edit'
  const prefix = editing ? 'policy-edit' : 'policy-create'
  const [form, setForm] = useState<RuleForm>(editing ? props.initial : EMPTY_RULE_FORM)
  const [error, setError] = useState<string | undefined>(undefined)

  function toggleAction(action: string, on: boolean) {
    const actions = on ? [...form.actions, action] : form.actions.filter((chosen) => chosen !== action)
    setForm({ ...form, actions })
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (props.mode === 'edit') {
      const body = ruleFormToUpdateRequest(form)
      if (!body.ok) return setError(body.message)
      setError(undefined)
      await props.onSubmit(body.request)
      return
    }
    const body = ruleFormToCreateRequest(form)
    if (!body.ok) return setError(body.message)
    setError(undefined)
    if (await props.onSubmit(body.request)) setForm(EMPTY_RULE_FORM)
  }

  return (
    <form
      className="inline-form"
      onSubmit={submit}
      aria-label={editing ? `Edit rule ${props.ruleId}` : 'Add a policy rule'}
      data-testid={`${prefix}-form`}
    >
      {editing ? null : (
        <label>
          Id (optional)
          <input
            value={form.id}
            onChange={(e) => setForm({ ...form, id: e.target.value })}
            maxLength={64}
            placeholder="no-billing-streams"
            data-testid={`${prefix}-id`}
          />
        </label>
      )}
      <Select
        label="Effect"
        value={form.effect}
        options={RULE_EFFECTS}
        onChange={(effect) => setForm({ ...form, effect })}
        testId={`${prefix}-effect`}
      />
      <fieldset className="checkbox-group" data-testid={`${prefix}-actions`}>
        <legend>Actions</legend>
        {RULE_ACTIONS.map((action) => (
          <label key={action} className="checkbox">
            <input
              type="checkbox"
              checked={form.actions.includes(action)}
              onChange={(e) => toggleAction(action, e.target.checked)}
              data-testid={`${prefix}-action-${action === '*' ? 'any' : action}`}
            />
            {action === '*' ? '* (every action)' : action}
          </label>
        ))}
      </fieldset>
      <Select
        label="Subject kind"
        value={form.subjectKind}
        options={SUBJECT_KINDS}
        onChange={(subjectKind) => setForm({ ...form, subjectKind })}
        testId={`${prefix}-subject-kind`}
      />
      <label>
        Subject pattern
        <input
          value={form.subjectPattern}
          onChange={(e) => setForm({ ...form, subjectPattern: e.target.value })}
          maxLength={200}
          placeholder="* or planner-*"
          data-testid={`${prefix}-subject-pattern`}
        />
      </label>
      {form.subjectKind === 'principal' ? (
        <PrincipalPicker
          onPick={(id) => setForm((current) => ({ ...current, subjectPattern: id }))}
          testId={`${prefix}-subject-principal`}
        />
      ) : null}
      <Select
        label="Target kind"
        value={form.targetKind}
        options={TARGET_KINDS}
        onChange={(targetKind) => setForm({ ...form, targetKind })}
        testId={`${prefix}-target-kind`}
      />
      <label>
        Target pattern
        <input
          value={form.targetPattern}
          onChange={(e) => setForm({ ...form, targetPattern: e.target.value })}
          maxLength={200}
          placeholder="billing-key"
          data-testid={`${prefix}-target-pattern`}
        />
      </label>
      {form.targetKind === 'principal' ? (
        <PrincipalPicker
          onPick={(id) => setForm((current) => ({ ...current, targetPattern: id }))}
          testId={`${prefix}-target-principal`}
        />
      ) : null}
      <label>
        Priority
        <input
          value={form.priority}
          onChange={(e) => setForm({ ...form, priority: e.target.value })}
          inputMode="numeric"
          placeholder="0"
          data-testid={`${prefix}-priority`}
        />
      </label>
      <label className="wide">
        Description
        <input
          value={form.description}
          onChange={(e) => setForm({ ...form, description: e.target.value })}
          maxLength={500}
          placeholder="why this rule exists"
          data-testid={`${prefix}-description`}
        />
      </label>
      <button type="submit" className="button" disabled={props.busy} data-testid={`${prefix}-submit`}>
        {editing ? 'Save rule' : 'Add rule'}
      </button>
      {props.onCancel === undefined ? null : (
        <button
          type="button"
          className="button secondary"
          onClick={props.onCancel}
          data-testid={`${prefix}-cancel`}
        >
          Cancel
        </button>
      )}
      {error === undefined ? null : (
        <div role="alert" className="banner banner-error" data-testid={`${prefix}-error`}>
          {error}
        </div>
      )}
    </form>
  )
}
