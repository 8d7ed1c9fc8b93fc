'use client'

import './exchange-replay.css'
import type { CapturedExchange, CapturedStepInfo } from '@parley/protocol/admin'
import { useQuery } from '@tanstack/react-query'
import { Fragment, useState } from 'react'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { agentMapQueries } from '@/lib/agent-map-queries'
import { browserCall } from '@/lib/browser-api'
import { formatUtc } from '@/lib/format'
import { firstFailure } from '@/lib/gateway-result'

const queries = agentMapQueries(browserCall)

/** What the gateway stores in place of a redacted value. */
const REDACTED_TEXT = '"[redacted]"'

/** The payload as indented JSON, each redacted value shown as a marked "redacted". */
function Payload({ step }: { step: CapturedStepInfo }) {
  if (step.truncated) {
    return (
      <p className="muted" data-testid="replay-truncated">
        Not stored: {step.size ?? '?'} bytes, over the capture limit.
      </p>
    )
  }
  if (step.payload === null || step.payload === undefined) {
    return <p className="muted">No payload.</p>
  }
  const parts = JSON.stringify(step.payload, null, 2).split(REDACTED_TEXT)
  return (
    <pre className="replay-payload" data-testid="replay-payload">
      {parts.map((part, index) => (
        <Fragment key={index}>
          {part}
          {index < parts.length - 1 ? (
            <mark className="replay-redacted" data-testid="replay-redacted">
              redacted
            </mark>
          ) : null}
        </Fragment>
      ))}
    </pre>
  )
}

function StepDetail({ exchange, step }: { exchange: CapturedExchange; step: CapturedStepInfo }) {
  return (
    <div className="replay-step" data-testid="replay-step" data-step={step.step}>
      <dl className="replay-facts">
        <dt>Step</dt>
        <dd data-testid="replay-step-name">{step.step}</dd>
        <dt>At</dt>
        <dd>
          +{step.offsetMs} ms · {formatUtc(step.time)}
        </dd>
        <dt>Instance</dt>
        <dd className="mono">{step.instanceId ?? '—'}</dd>
        <dt>Node</dt>
        <dd className="mono">{step.node ?? '—'}</dd>
        <dt>Trace id</dt>
        <dd className="mono" data-testid="replay-trace-id">
          {step.traceId ?? exchange.traceId ?? '—'}
        </dd>
        <dt>Size</dt>
        <dd>{step.size === null ? '—' : `${step.size} bytes`}</dd>
        {step.redacted.length === 0 ? null : (
          <>
            <dt>Redacted</dt>
            <dd className="mono" data-testid="replay-redacted-paths">
              {step.redacted.join(', ')}
            </dd>
          </>
        )}
      </dl>
      <Payload step={step} />
    </div>
  )
}

/** One exchange stepped through: the steps in order, Previous / Next, the current step's payload. */
function ExchangeStepper({ exchange }: { exchange: CapturedExchange }) {
  const [current, setCurrent] = useState(0)
  const step = exchange.steps[Math.min(current, exchange.steps.length - 1)]
  if (step === undefined) return null
  const last = exchange.steps.length - 1
  return (
    <div className="replay" data-testid="replay" data-correlation-id={exchange.correlationId}>
      <p className="muted small">
        {exchange.caller} → {exchange.agentId} · started {formatUtc(exchange.startedAt)} ·{' '}
        <span className="mono">{exchange.correlationId}</span>
      </p>
      <ol className="replay-steps" aria-label="Steps">
        {exchange.steps.map((candidate, index) => (
          <li key={candidate.stepIndex}>
            <button
              type="button"
              className={index === current ? 'button' : 'button secondary'}
              aria-current={index === current ? 'step' : undefined}
              onClick={() => setCurrent(index)}
              data-testid="replay-step-button"
            >
              {index + 1}. {candidate.step} +{candidate.offsetMs} ms
            </button>
          </li>
        ))}
      </ol>
      <div className="replay-nav">
        <button
          type="button"
          className="button secondary"
          disabled={current === 0}
          onClick={() => setCurrent(current - 1)}
          data-testid="replay-previous"
        >
          Previous step
        </button>
        <span data-testid="replay-position" aria-live="polite">
          Step {current + 1} of {last + 1}
        </span>
        <button
          type="button"
          className="button secondary"
          disabled={current >= last}
          onClick={() => setCurrent(current + 1)}
          data-testid="replay-next"
        >
          Next step
        </button>
      </div>
      <StepDetail exchange={exchange} step={step} />
    </div>
  )
}

/**
 * Conversation replay: the exchanges between the two sides that the gateway captured (capture is off unless an
 * operator named the agent or a policy rule), newest first; choose one and step through it.
 */
export function ExchangeReplay({ a, b }: { a: string; b: string }) {
  const result = useQuery(queries.exchanges(a, b)).data
  const page = result?.ok ? result.data : undefined
  const [chosen, setChosen] = useState<string | undefined>(undefined)
  const exchanges = page?.exchanges ?? []
  const exchange = exchanges.find((candidate) => candidate.correlationId === chosen) ?? exchanges[0]

  return (
    <section className="replay-section" data-testid="replay-section" aria-labelledby="replay-title">
      <h2 id="replay-title">Replay</h2>
      <GatewayErrorBanner failure={firstFailure(result)} />
      {page === undefined ? null : exchanges.length === 0 ? (
        <p className="muted" data-testid="replay-empty">
          {page.capture.enabled
            ? 'No captured exchange between them.'
            : 'Payload capture is off (capture.agents, capture.policies).'}
        </p>
      ) : (
        <>
          <label>
            Exchange{' '}
            <select
              value={exchange?.correlationId}
              onChange={(event) => setChosen(event.target.value)}
              data-testid="replay-exchange"
            >
              {exchanges.map((candidate) => (
                <option key={candidate.correlationId} value={candidate.correlationId}>
                  {formatUtc(candidate.startedAt)} · {candidate.caller} → {candidate.agentId} ·{' '}
                  {candidate.steps.length} steps
                </option>
              ))}
            </select>
          </label>
          {exchange === undefined ? null : (
            <ExchangeStepper key={exchange.correlationId} exchange={exchange} />
          )}
        </>
      )}
    </section>
  )
}
