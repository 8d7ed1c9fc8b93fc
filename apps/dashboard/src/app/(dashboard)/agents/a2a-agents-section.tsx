'use client'

import type { A2aAgentInfo, AddA2aAgentRequest, UpstreamHealth } from '@parley/protocol/admin'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { ActionNotice, type Notice } from '@/components/action-notice'
import { Badge } from '@/components/badge'
import { ConfirmButton } from '@/components/confirm-button'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { LiveTable } from '@/components/live-table'
import { UpstreamAddForm } from '@/components/upstream-add-form'
import { browserApi, browserQueries } from '@/lib/browser-api'
import { formatUtc } from '@/lib/format'
import { describeFailure, firstFailure } from '@/lib/gateway-result'
import { A2A_AGENTS_KEY, AGENTS_KEY } from '@/lib/queries'
import { type A2aAgentForm, a2aAgentFormToRequest, upstreamStateTone } from '@/lib/upstreams'

const A2A_COLUMNS = [
  { label: 'Agent' },
  { label: 'Skills' },
  { label: 'Instances (card URL · state · last card fetch · last error)' },
  { label: 'Signature' },
  { label: 'Credentials' },
  { label: 'Added' },
  { label: 'Actions' },
] as const

const EMPTY_FORM: A2aAgentForm = { urls: '', agentId: '', token: '' }

function signatureLabel(verified: boolean | null): string {
  if (verified === null) return 'unsigned'
  return verified ? 'verified' : 'not verified'
}

function InstanceHealth({ health }: { health: UpstreamHealth }) {
  return (
    <li data-testid="a2a-instance" data-url={health.url} data-state={health.state}>
      <span className="mono small">{health.url}</span>{' '}
      <Badge tone={upstreamStateTone(health.state)} testId="a2a-instance-state">
        {health.state}
      </Badge>
      <div className="muted small" data-testid="a2a-instance-last-fetch">
        {health.lastFetchAt === null
          ? 'no card fetched yet'
          : `card fetched ${formatUtc(health.lastFetchAt)}`}
      </div>
      {health.lastError === null ? null : (
        <div className="small error-text" data-testid="a2a-instance-last-error">
          {health.lastError}
        </div>
      )}
    </li>
  )
}

/**
 * External A2A agents the gateway calls over HTTP: the health of each card URL, whether the card's
 * signature verified, which kind of credentials the gateway presents (never their value); add, refresh, remove.
 */
export function A2aAgentsSection() {
  const queryClient = useQueryClient()
  const query = useQuery(browserQueries.a2aAgents())
  const result = query.data
  const agents = result?.ok ? result.data.agents : []
  const [notice, setNotice] = useState<Notice | undefined>(undefined)

  function changed() {
    void queryClient.invalidateQueries({ queryKey: A2A_AGENTS_KEY })
    void queryClient.invalidateQueries({ queryKey: AGENTS_KEY })
  }

  const add = useMutation({
    mutationFn: (body: AddA2aAgentRequest) => browserApi.addA2aAgent(body),
    onSuccess: (answer) => {
      setNotice(
        answer.ok
          ? {
              tone: 'ok',
              text: `Added the A2A agent ${answer.data.agentId} with ${answer.data.capabilities.length} skills.`,
            }
          : { tone: 'error', text: `Could not add the A2A agent. ${describeFailure(answer.failure)}` },
      )
      changed()
    },
  })
  const refresh = useMutation({
    mutationFn: (agent: A2aAgentInfo) => browserApi.refreshA2aAgent(agent.agentId),
    onSuccess: (answer, agent) => {
      setNotice(
        answer.ok
          ? { tone: 'ok', text: `Fetched the cards of ${agent.agentId} again.` }
          : { tone: 'error', text: `Could not refresh ${agent.agentId}. ${describeFailure(answer.failure)}` },
      )
      changed()
    },
  })
  const remove = useMutation({
    mutationFn: (agent: A2aAgentInfo) => browserApi.removeA2aAgent(agent.agentId),
    onSuccess: (answer, agent) => {
      setNotice(
        answer.ok
          ? { tone: 'ok', text: `Removed the A2A agent ${agent.agentId}.` }
          : { tone: 'error', text: `Could not remove ${agent.agentId}. ${describeFailure(answer.failure)}` },
      )
      changed()
    },
  })

  return (
    <section aria-labelledby="a2a-agents-heading" data-testid="a2a-agents-section">
      <div className="section-head">
        <h2 id="a2a-agents-heading">External A2A agents</h2>
        <span className="muted small">agents the gateway calls over A2A · times in UTC</span>
      </div>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <ActionNotice notice={notice} testIdPrefix="a2a-action" />
      <UpstreamAddForm
        label="Add an A2A agent"
        submitLabel="Add A2A agent"
        empty={EMPTY_FORM}
        toRequest={a2aAgentFormToRequest}
        onAdd={async (body) => (await add.mutateAsync(body)).ok}
        busy={add.isPending}
        testIdPrefix="a2a-add"
      >
        {(form, setForm) => (
          <>
            <label className="wide">
              Card URLs (one per line)
              <textarea
                value={form.urls}
                onChange={(e) => setForm({ ...form, urls: e.target.value })}
                required
                placeholder="https://agent.example.com/.well-known/agent-card.json"
                data-testid="a2a-add-urls"
              />
            </label>
            <label>
              Agent id (optional)
              <input
                value={form.agentId}
                onChange={(e) => setForm({ ...form, agentId: e.target.value })}
                maxLength={128}
                placeholder="from the card's name"
                data-testid="a2a-add-agent-id"
              />
            </label>
          </>
        )}
      </UpstreamAddForm>
      <LiveTable
        testId="a2a-agents-table"
        columns={A2A_COLUMNS}
        result={result}
        rowCount={agents.length}
        emptyText="No external A2A agent is registered."
        unavailableText="External A2A agents unavailable."
      >
        {agents.map((agent) => (
          <tr
            key={agent.agentId}
            data-testid="a2a-agent-row"
            data-agent-id={agent.agentId}
            aria-label={`A2A agent ${agent.agentId}`}
          >
            <td>
              <span className="mono" data-testid="a2a-agent-id">
                {agent.agentId}
              </span>
              {agent.name === null ? null : <div data-testid="a2a-agent-name">{agent.name}</div>}
              {agent.description === null ? null : (
                <div className="muted small" data-testid="a2a-agent-description">
                  {agent.description}
                </div>
              )}
            </td>
            <td className="mono" data-testid="a2a-agent-skills">
              {agent.capabilities.length === 0 ? (
                <span className="muted">none</span>
              ) : (
                agent.capabilities.join(', ')
              )}
            </td>
            <td>
              <ul className="plain-list">
                {agent.instances.map((health) => (
                  <InstanceHealth key={health.url} health={health} />
                ))}
              </ul>
            </td>
            <td data-testid="a2a-agent-signature">{signatureLabel(agent.signatureVerified)}</td>
            <td data-testid="a2a-agent-credentials">{agent.credentials}</td>
            <td className="nowrap">{formatUtc(agent.createdAt)}</td>
            <td>
              <div className="row-actions">
                <button
                  type="button"
                  className="button secondary small"
                  disabled={refresh.isPending}
                  onClick={() => refresh.mutate(agent)}
                  data-testid="a2a-agent-refresh"
                >
                  Refresh
                </button>
                <ConfirmButton
                  label="Remove"
                  question={`Remove the A2A agent ${agent.agentId}?`}
                  confirmLabel="Remove agent"
                  onConfirm={() => remove.mutate(agent)}
                  disabled={remove.isPending}
                  small
                  testId="a2a-agent-remove"
                />
              </div>
            </td>
          </tr>
        ))}
      </LiveTable>
    </section>
  )
}
