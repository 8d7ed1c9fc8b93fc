// @vitest-environment happy-dom
import type { AuditEvent } from '@parley/protocol/admin'
import { screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import {
  cleanUpViews,
  httpFailureAnswer,
  okAnswer,
  type RouteAnswer,
  renderView,
  type SentRequest,
  stubDashboardRoutes,
} from '@/test-support/render-view'
import { completedTask } from '@/test-support/upstream-fixtures'
import { ConversationView } from './conversation-view'

afterEach(cleanUpViews)

const PAGE = '/api/gw/conversations?a=planner&b=weather&order=newest&limit=100'
const TASK_1 = '/api/gw/a2a/tasks/task-1?agentId=weather'
const TASK_2 = '/api/gw/a2a/tasks/task-2?agentId=weather'

function a2aRow(id: string, taskId: string, detail: string): AuditEvent {
  return {
    id,
    time: '2024-05-01T10:00:00.000Z',
    kind: 'a2a',
    principal: 'planner',
    clientId: 'a2a:planner',
    connectionId: null,
    channel: null,
    target: 'weather',
    size: null,
    outcome: 'ok',
    detail,
    traceId: null,
    correlationId: taskId,
    latencyMs: 12,
  }
}

const rows: AuditEvent[] = [
  a2aRow('au_1', 'task-1', 'message'),
  a2aRow('au_2', 'task-1', 'get'),
  a2aRow('au_3', 'task-2', 'stream'),
  { ...a2aRow('au_4', 'req_9', 'x'), kind: 'request' },
]

function stubRoutes(override: (request: SentRequest) => RouteAnswer | undefined = () => undefined) {
  return stubDashboardRoutes((request) => {
    const special = override(request)
    if (special !== undefined) return special
    if (request.url === '/api/gw/agents') return okAnswer({ agents: [] })
    if (request.url === PAGE) return okAnswer({ a: 'planner', b: 'weather', events: rows, nextCursor: null })
    if (request.url === TASK_1) return okAnswer(completedTask)
    if (request.url === TASK_2) {
      return okAnswer({
        ...completedTask,
        id: 'task-2',
        state: 'working',
        statusMessage: null,
        artifacts: [],
      })
    }
    return undefined
  })
}

function task(taskId: string) {
  const found = screen.getAllByTestId('a2a-task').find((t) => t.dataset.taskId === taskId)
  if (found === undefined) throw new Error(`no task ${taskId}`)
  return found
}

describe('Conversation view: A2A tasks', () => {
  it('shows each task the a2a rows name, once, with its state, status message and artifacts as text', async () => {
    const sent = stubRoutes()
    renderView(<ConversationView initial={{ a: 'planner', b: 'weather' }} />)

    await waitFor(() => expect(task('task-1').dataset.state).toBe('completed'))
    expect(screen.getAllByTestId('a2a-task').map((t) => t.dataset.taskId)).toEqual(['task-1', 'task-2'])
    // Only a2a rows name tasks: the request row's correlation id is not looked up.
    expect(sent.some((request) => request.url.includes('req_9'))).toBe(false)

    const first = within(task('task-1'))
    expect(first.getByTestId('a2a-task-state').textContent).toBe('completed')
    expect(first.getByTestId('a2a-task-state').dataset.tone).toBe('ok')
    const message = first.getByTestId('a2a-task-status-message')
    expect(message.textContent).toBe('Done <b>now</b>')
    expect(message.querySelector('b')).toBeNull()
    const artifact = first.getByTestId('a2a-task-artifact')
    expect(artifact.dataset.artifactId).toBe('forecast')
    expect(artifact.textContent).toContain('Forecast')
    expect(
      first.getAllByTestId('a2a-task-part').map((part) => [part.dataset.partKind, part.textContent]),
    ).toEqual([
      ['text', 'Sunny, 21°C'],
      ['data', '{"high":21}'],
    ])

    await waitFor(() => expect(task('task-2').dataset.state).toBe('working'))
    expect(within(task('task-2')).getByTestId('a2a-task-no-artifacts').textContent).toBe('No artifact.')
  })

  it('says when a task is gone from the store and shows other failures as such', async () => {
    stubRoutes((request) => {
      if (request.url === TASK_1) return httpFailureAnswer(404, 'not_found', 'no A2A task task-1')
      if (request.url === TASK_2) return httpFailureAnswer(503, 'unavailable', 'task store down')
      return undefined
    })
    renderView(<ConversationView initial={{ a: 'planner', b: 'weather' }} />)

    await waitFor(() =>
      expect(within(task('task-1')).getByTestId('a2a-task-error').textContent).toBe(
        'The gateway keeps no such task any more (retention, or another store).',
      ),
    )
    await waitFor(() =>
      expect(within(task('task-2')).getByTestId('a2a-task-error').textContent).toBe(
        'The gateway answered 503 unavailable: task store down',
      ),
    )
    expect(screen.queryByTestId('a2a-task-state')).toBeNull()
  })

  it('shows no task section for a conversation without a2a rows', async () => {
    stubRoutes((request) =>
      request.url === PAGE
        ? okAnswer({ a: 'planner', b: 'weather', events: [rows[3]], nextCursor: null })
        : undefined,
    )
    renderView(<ConversationView initial={{ a: 'planner', b: 'weather' }} />)
    await waitFor(() => expect(screen.getAllByTestId('conversation-row')).toHaveLength(1))
    expect(screen.queryByTestId('conversation-a2a-tasks')).toBeNull()
  })
})
