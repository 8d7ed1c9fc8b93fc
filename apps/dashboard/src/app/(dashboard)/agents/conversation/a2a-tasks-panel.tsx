'use client'

import type { A2aTaskInfo } from '@parley/protocol/admin'
import { useQueries } from '@tanstack/react-query'
import { Badge } from '@/components/badge'
import { browserQueries } from '@/lib/browser-api'
import { formatUtc } from '@/lib/format'
import { describeFailure } from '@/lib/gateway-result'
import { taskStateTone } from '@/lib/upstreams'

type TaskRef = { taskId: string; agentId: string }

function TaskDetails({ task }: { task: A2aTaskInfo }) {
  return (
    <>
      <div className="muted small">
        context <span className="mono">{task.contextId}</span> · created by{' '}
        <span className="mono">{task.owner}</span> · {task.events} events · updated{' '}
        {formatUtc(task.updatedAt)}
      </div>
      {task.statusMessage === null ? null : (
        <div className="detail" data-testid="a2a-task-status-message">
          {task.statusMessage}
        </div>
      )}
      {task.artifacts.length === 0 ? (
        <div className="muted small" data-testid="a2a-task-no-artifacts">
          No artifact.
        </div>
      ) : (
        <ul className="plain-list">
          {task.artifacts.map((artifact) => (
            <li
              key={artifact.artifactId}
              data-testid="a2a-task-artifact"
              data-artifact-id={artifact.artifactId}
            >
              <strong>{artifact.name ?? artifact.artifactId}</strong>
              {artifact.description === null ? null : (
                <span className="muted small"> · {artifact.description}</span>
              )}
              {artifact.parts.map((part, index) => (
                // Parts have no id of their own; their order is their identity (they are never reordered).
                <pre key={index} className="json" data-testid="a2a-task-part" data-part-kind={part.kind}>
                  {part.text}
                </pre>
              ))}
            </li>
          ))}
        </ul>
      )}
    </>
  )
}

/**
 * The A2A tasks a conversation's `a2a` rows name (correlation id = task id, target = agent), each with its
 * state, its latest status message and its artifacts, read from the gateway's task store and kept live.
 */
export function A2aTasksPanel({ refs }: { refs: readonly TaskRef[] }) {
  const results = useQueries({ queries: refs.map((ref) => browserQueries.a2aTask(ref.taskId, ref.agentId)) })
  if (refs.length === 0) return null
  return (
    <section aria-labelledby="a2a-tasks-heading" data-testid="conversation-a2a-tasks">
      <h2 id="a2a-tasks-heading">A2A tasks</h2>
      {refs.map((ref, index) => {
        const result = results[index]?.data
        return (
          <article
            key={`${ref.agentId}/${ref.taskId}`}
            className="task-panel"
            data-testid="a2a-task"
            data-task-id={ref.taskId}
            data-state={result?.ok ? result.data.state : undefined}
            aria-label={`A2A task ${ref.taskId}`}
          >
            <div className="section-head">
              <span>
                Task <span className="mono">{ref.taskId}</span> of <span className="mono">{ref.agentId}</span>
              </span>
              {result?.ok ? (
                <Badge tone={taskStateTone(result.data.state)} testId="a2a-task-state">
                  {result.data.state}
                </Badge>
              ) : null}
            </div>
            {result === undefined ? (
              <div className="muted small">Loading…</div>
            ) : result.ok ? (
              <TaskDetails task={result.data} />
            ) : (
              <div className="small error-text" data-testid="a2a-task-error">
                {result.failure.kind === 'http' && result.failure.status === 404
                  ? 'The gateway keeps no such task any more (retention, or another store).'
                  : describeFailure(result.failure)}
              </div>
            )}
          </article>
        )
      })}
    </section>
  )
}
