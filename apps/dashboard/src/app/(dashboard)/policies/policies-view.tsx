'use client'

import type {
  CreatePolicyRuleRequest,
  PolicyEffect,
  PolicyRuleInfo,
  UpdatePolicyRuleRequest,
} from '@parley/protocol/admin'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { ActionNotice, type Notice } from '@/components/action-notice'
import { Badge } from '@/components/badge'
import { ConfirmButton } from '@/components/confirm-button'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { LiveTable } from '@/components/live-table'
import { MatcherText } from '@/components/principal-name'
import type { PolicyDefaultEffect } from '@/lib/agent-requests'
import { browserApi, browserQueries } from '@/lib/browser-api'
import { describeFailure, firstFailure, type GatewayResult } from '@/lib/gateway-result'
import { ruleToForm } from '@/lib/policy-forms'
import type { StatusTone } from '@/lib/presence'
import { POLICIES_KEY } from '@/lib/queries'
import { PolicyRuleForm } from './policy-rule-form'

const RULE_COLUMNS = [
  { label: 'Priority', numeric: true },
  { label: 'Effect' },
  { label: 'Actions' },
  { label: 'Subject' },
  { label: 'Target' },
  { label: 'Description' },
  { label: 'Actions on the rule' },
] as const

const EFFECT_TONE: Record<PolicyEffect, StatusTone> = {
  allow: 'ok',
  deny: 'warn',
  require_introduction: 'neutral',
}

/**
 * The policy rules in evaluation order (highest priority first), the default effect, and forms to add,
 * change and delete rules. Every change is pushed to every node before the gateway answers.
 */
export function PoliciesView() {
  const queryClient = useQueryClient()
  const query = useQuery(browserQueries.policies())
  const result = query.data
  const policies = result?.ok ? result.data : undefined
  const [notice, setNotice] = useState<Notice | undefined>(undefined)
  const [editing, setEditing] = useState<string | undefined>(undefined)

  function report<T>(answer: GatewayResult<T>, success: string, failure: string): boolean {
    setNotice(
      answer.ok
        ? { tone: 'ok', text: success }
        : { tone: 'error', text: `${failure} ${describeFailure(answer.failure)}` },
    )
    void queryClient.invalidateQueries({ queryKey: POLICIES_KEY })
    return answer.ok
  }

  const createRule = useMutation({
    mutationFn: (request: CreatePolicyRuleRequest) => browserApi.createPolicyRule(request),
    onSuccess: (answer) =>
      report(answer, `Added rule ${answer.ok ? answer.data.id : ''}.`, 'Could not add the rule.'),
  })
  const updateRule = useMutation({
    mutationFn: ({ id, request }: { id: string; request: UpdatePolicyRuleRequest }) =>
      browserApi.updatePolicyRule(id, request),
    onSuccess: (answer, { id }) => {
      if (report(answer, `Saved rule ${id}.`, `Could not save rule ${id}.`)) setEditing(undefined)
    },
  })
  const deleteRule = useMutation({
    mutationFn: (rule: PolicyRuleInfo) => browserApi.deletePolicyRule(rule.id),
    onSuccess: (answer, rule) => {
      report(answer, `Deleted rule ${rule.id}.`, `Could not delete rule ${rule.id}.`)
      if (answer.ok && editing === rule.id) setEditing(undefined)
    },
  })
  const setDefault = useMutation({
    mutationFn: (effect: PolicyDefaultEffect) => browserApi.setPolicyDefault(effect),
    onSuccess: (answer, effect) => {
      if (answer.ok) queryClient.setQueryData(POLICIES_KEY, answer)
      report(
        answer,
        `When no rule matches, the gateway now answers: ${effect}.`,
        'Could not change the default effect.',
      )
    },
  })

  const rules = policies?.rules ?? []
  const editedRule = rules.find((rule) => rule.id === editing)

  return (
    <section data-testid="policies-page">
      <h1>Policies</h1>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <ActionNotice notice={notice} testIdPrefix="policy-action" />

      <div className="filters">
        <label>
          Default effect
          <select
            value={policies?.defaultEffect ?? ''}
            disabled={policies === undefined || setDefault.isPending}
            onChange={(e) => setDefault.mutate(e.target.value as PolicyDefaultEffect)}
            data-testid="policy-default-effect"
          >
            {policies === undefined ? <option value="">—</option> : null}
            <option value="allow">allow</option>
            <option value="deny">deny</option>
          </select>
        </label>
        <span className="muted small" data-testid="policy-version">
          {policies === undefined ? 'Version —' : `Version ${policies.version}`}
        </span>
        <span className="muted small">decides when no rule matches · refreshes every 2 seconds</span>
      </div>

      <div className="section-head">
        <h2>Rules</h2>
        <span className="muted small">
          in evaluation order: higher priority first; at equal priority deny, then require_introduction, then
          allow
        </span>
      </div>
      <LiveTable
        testId="policy-rules-table"
        columns={RULE_COLUMNS}
        result={result}
        rowCount={rules.length}
        emptyText="No rule: the default effect decides everything."
        unavailableText="Policies unavailable."
      >
        {rules.map((rule) => (
          <tr
            key={rule.id}
            data-testid="policy-rule-row"
            data-rule-id={rule.id}
            aria-label={`Rule ${rule.id}`}
          >
            <td className="num" data-testid="policy-rule-priority">
              {rule.priority}
            </td>
            <td>
              <Badge tone={EFFECT_TONE[rule.effect]} testId="policy-rule-effect">
                {rule.effect}
              </Badge>
            </td>
            <td className="mono" data-testid="policy-rule-actions">
              {rule.actions.join(', ')}
            </td>
            <td className="mono" data-testid="policy-rule-subject">
              <MatcherText matcher={rule.subject} />
            </td>
            <td className="mono" data-testid="policy-rule-target">
              <MatcherText matcher={rule.target} />
            </td>
            <td className="detail" data-testid="policy-rule-description">
              {rule.description === null ? <span className="muted">—</span> : rule.description}
              <div className="muted small mono" data-testid="policy-rule-id">
                {rule.id}
              </div>
            </td>
            <td>
              <div className="row-actions">
                <button
                  type="button"
                  className="button secondary small"
                  onClick={() => setEditing(rule.id)}
                  data-testid="policy-rule-edit"
                >
                  Edit
                </button>
                <ConfirmButton
                  label="Delete"
                  question={`Delete rule ${rule.id}?`}
                  confirmLabel="Delete rule"
                  onConfirm={() => deleteRule.mutate(rule)}
                  disabled={deleteRule.isPending}
                  small
                  testId="policy-rule-delete"
                />
              </div>
            </td>
          </tr>
        ))}
      </LiveTable>

      {editedRule === undefined ? null : (
        <>
          <h2>Edit rule {editedRule.id}</h2>
          <PolicyRuleForm
            key={editedRule.id}
            mode="edit"
            ruleId={editedRule.id}
            initial={ruleToForm(editedRule)}
            busy={updateRule.isPending}
            onCancel={() => setEditing(undefined)}
            onSubmit={async (request) => (await updateRule.mutateAsync({ id: editedRule.id, request })).ok}
          />
        </>
      )}

      <h2>Add a rule</h2>
      <PolicyRuleForm
        mode="create"
        busy={createRule.isPending}
        onSubmit={async (request) => (await createRule.mutateAsync(request)).ok}
      />
    </section>
  )
}
