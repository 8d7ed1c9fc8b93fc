'use client'

import type { AuditEvent } from '@parley/protocol/admin'
import { useInfiniteQuery, useQuery } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { LoadMorePager } from '@/components/load-more-pager'
import { conversationHref, correlationGroups, describeDirection, directionOf } from '@/lib/agents'
import { browserQueries } from '@/lib/browser-api'
import { formatCount, formatUtc } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'
import { a2aTaskRefs } from '@/lib/upstreams'
import { A2aTasksPanel } from './a2a-tasks-panel'
import { ExchangeReplay } from './exchange-replay'

export type ConversationPair = { a: string; b: string }

function Cell({ value }: { value: string | number | null | undefined }) {
  return value === null || value === undefined ? <span className="muted">—</span> : value
}

/**
 * The interactions between two agents (or clients, or principals), newest first with older pages on demand:
 * requests with their replies, streams, messages, introductions, signals. An agent stands for every one of
 * its instances, whatever their client ids. Rows of one request/reply share a correlation id and
 * a band colour.
 */
export function ConversationView({ initial }: { initial: ConversationPair }) {
  const [pair, setPair] = useState<ConversationPair>(initial)
  const [form, setForm] = useState<ConversationPair>(initial)
  const [formError, setFormError] = useState<string | undefined>(undefined)
  const agentsQuery = useQuery(browserQueries.agents())
  const agentIds = agentsQuery.data?.ok ? agentsQuery.data.data.agents.map((agent) => agent.agentId) : []
  const chosen = pair.a !== '' && pair.b !== ''

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const next = { a: form.a.trim(), b: form.b.trim() }
    if (next.a === '' || next.b === '') {
      setFormError('Name both sides: an agent id, client id or principal each.')
      return
    }
    setFormError(undefined)
    setPair(next)
    // Kept in the URL so the view can be shared and reloaded; Next's router follows history changes.
    window.history.replaceState(null, '', conversationHref(next.a, next.b))
  }

  return (
    <section data-testid="conversation-page">
      <h1>Conversation</h1>
      <form className="inline-form" onSubmit={submit} aria-label="Choose two agents">
        <label>
          Agent A
          <input
            value={form.a}
            onChange={(e) => setForm({ ...form, a: e.target.value })}
            list="conversation-agents"
            maxLength={200}
            placeholder="agent id, client id or principal"
            data-testid="conversation-a"
          />
        </label>
        <label>
          Agent B
          <input
            value={form.b}
            onChange={(e) => setForm({ ...form, b: e.target.value })}
            list="conversation-agents"
            maxLength={200}
            placeholder="agent id, client id or principal"
            data-testid="conversation-b"
          />
        </label>
        <datalist id="conversation-agents" data-testid="conversation-agent-options">
          {agentIds.map((agentId) => (
            <option key={agentId} value={agentId} />
          ))}
        </datalist>
        <button type="submit" className="button" data-testid="conversation-show">
          Show conversation
        </button>
        {formError === undefined ? null : (
          <div role="alert" className="banner banner-error" data-testid="conversation-form-error">
            {formError}
          </div>
        )}
      </form>
      {chosen ? (
        <ConversationRows key={`${pair.a}\u0000${pair.b}`} a={pair.a} b={pair.b} />
      ) : (
        <p className="muted" data-testid="conversation-pick">
          Choose two agents to see what passed between them.
        </p>
      )}
    </section>
  )
}

/** What each side matched: an agent's id and its instances' client ids. */
function PartyNames({ a, b, parties }: { a: string; b: string; parties: { a: string[]; b: string[] } }) {
  const others = (name: string, names: string[]) => names.filter((candidate) => candidate !== name)
  const sides = [
    { side: 'a', name: a, also: others(a, parties.a) },
    { side: 'b', name: b, also: others(b, parties.b) },
  ].filter((entry) => entry.also.length > 0)
  if (sides.length === 0) return null
  return (
    <p className="muted small" data-testid="conversation-parties">
      {sides.map(({ side, name, also }) => (
        <span key={side} data-testid={`conversation-party-${side}`}>
          {name} also matches <span className="mono">{also.join(', ')}</span>.{' '}
        </span>
      ))}
    </p>
  )
}

function ConversationRows({ a, b }: { a: string; b: string }) {
  const query = useInfiniteQuery(browserQueries.conversation(a, b))
  const pages = query.data?.pages ?? []
  const events: AuditEvent[] = pages.flatMap((page) => (page.ok ? page.data.events : []))
  const failure = firstFailure(...pages)
  const groups = correlationGroups(events)
  const firstPage = pages[0]
  const parties = firstPage?.ok ? firstPage.data.parties : undefined

  return (
    <>
      <GatewayErrorBanner failure={failure} />
      <div className="section-head">
        <h2 data-testid="conversation-title">
          {a} ↔ {b}
        </h2>
        <span className="muted small">newest first · refreshes every 2 seconds · times in UTC</span>
      </div>
      {parties === undefined ? null : <PartyNames a={a} b={b} parties={parties} />}
      <div className="table-wrap">
        <table
          className="table"
          data-testid="conversation-table"
          aria-label={`Conversation between ${a} and ${b}`}
        >
          <thead>
            <tr>
              <th>Time</th>
              <th>Direction</th>
              <th>Kind</th>
              <th>Outcome</th>
              <th className="num">Latency ms</th>
              <th>Correlation id</th>
              <th>Trace id</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {events.length === 0 ? (
              <tr>
                <td colSpan={8} className="empty" data-testid="conversation-table-empty">
                  {query.isPending
                    ? 'Loading…'
                    : failure !== undefined
                      ? 'Conversation unavailable.'
                      : 'Nothing passed between them yet.'}
                </td>
              </tr>
            ) : (
              events.map((event) => {
                const group =
                  event.correlationId === null || event.correlationId === undefined
                    ? undefined
                    : groups.get(event.correlationId)
                return (
                  <tr
                    key={event.id}
                    data-testid="conversation-row"
                    data-event-id={event.id}
                    data-correlation-id={event.correlationId ?? undefined}
                    data-group={group}
                    className={
                      group === undefined ? undefined : `conversation-group conversation-group-${group % 2}`
                    }
                  >
                    <td className="nowrap">{formatUtc(event.time)}</td>
                    <td className="nowrap" data-testid="conversation-direction">
                      {describeDirection(directionOf(event, parties?.a ?? a, parties?.b ?? b), a, b)}
                    </td>
                    <td>
                      <span className={`tag tag-${event.kind}`} data-testid="conversation-kind">
                        {event.kind}
                      </span>
                    </td>
                    <td>
                      <span className={`outcome outcome-${event.outcome}`} data-testid="conversation-outcome">
                        {event.outcome}
                      </span>
                    </td>
                    <td className="num" data-testid="conversation-latency">
                      <Cell
                        value={
                          event.latencyMs === null || event.latencyMs === undefined
                            ? null
                            : formatCount(event.latencyMs)
                        }
                      />
                    </td>
                    <td className="mono" data-testid="conversation-correlation">
                      <Cell value={event.correlationId} />
                    </td>
                    <td className="mono">
                      <Cell value={event.traceId} />
                    </td>
                    <td className="detail" data-testid="conversation-detail">
                      <Cell value={event.detail} />
                    </td>
                  </tr>
                )
              })
            )}
          </tbody>
        </table>
      </div>
      <LoadMorePager
        hasNextPage={query.hasNextPage}
        isFetchingNextPage={query.isFetchingNextPage}
        onLoadMore={() => void query.fetchNextPage()}
        testId="conversation-load-more"
        label="Load older"
        shown={events.length}
        endText="No older rows."
        summary={`${events.length} rows shown`}
      />
      <A2aTasksPanel refs={a2aTaskRefs(events)} />
      <ExchangeReplay a={a} b={b} />
    </>
  )
}
