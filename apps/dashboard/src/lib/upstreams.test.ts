import type { AuditEvent } from '@parley/protocol/admin'
import { describe, expect, it } from 'vitest'
import { upstreamAgentList } from '@/test-support/upstream-fixtures'
import {
  a2aAgentFormToRequest,
  a2aTaskRefs,
  describedCapabilities,
  errorRate,
  mcpServerFormToRequest,
  parseUrls,
  taskStateTone,
  upstreamStateTone,
} from './upstreams'

function row(kind: AuditEvent['kind'], correlationId: string | null, target: string | null): AuditEvent {
  return {
    id: `${kind}-${correlationId}`,
    time: '2024-05-01T10:00:00.000Z',
    kind,
    principal: 'p',
    clientId: null,
    connectionId: null,
    channel: null,
    target,
    size: null,
    outcome: 'ok',
    detail: null,
    traceId: null,
    correlationId,
  }
}

describe('upstream helpers', () => {
  it('error rate: — before the first call, whole percents plain, others to one decimal', () => {
    expect(errorRate(0, 0)).toBe('—')
    expect(errorRate(4, 1)).toBe('25%')
    expect(errorRate(3, 1)).toBe('33.3%')
    expect(errorRate(5, 5)).toBe('100%')
  })

  it('tones: up ok, down error, pending warn; completed ok, failed error, input-required warn, working neutral', () => {
    expect([upstreamStateTone('up'), upstreamStateTone('down'), upstreamStateTone('pending')]).toEqual([
      'ok',
      'error',
      'warn',
    ])
    expect(
      (['completed', 'failed', 'input-required', 'working'] as const).map((state) => taskStateTone(state)),
    ).toEqual(['ok', 'error', 'warn', 'neutral'])
  })

  it('A2A tasks of a conversation: each a2a row with a task and an agent, once, in order', () => {
    expect(
      a2aTaskRefs([
        row('a2a', 't1', 'weather'),
        row('request', 'r1', 'weather'),
        row('a2a', 't1', 'weather'),
        row('a2a', null, 'weather'),
        row('a2a', 't2', null),
        row('a2a', 't3', 'other'),
      ]),
    ).toEqual([
      { taskId: 't1', agentId: 'weather' },
      { taskId: 't3', agentId: 'other' },
    ])
  })

  it('capabilities with the descriptions instances gave, undescribed ones bare', () => {
    expect(describedCapabilities(upstreamAgentList.agents[0] as never)).toEqual([
      { name: 'summarize', title: 'Summarize', description: 'Shortens <i>any</i> text to a paragraph.' },
      { name: 'translate.fr', title: undefined, description: undefined },
    ])
  })

  it('forms: URLs one per line, once each; empty id and token left out; a token sent as typed', () => {
    expect(parseUrls(' http://a/ \n\nhttp://b/, http://a/ ')).toEqual(['http://a/', 'http://b/'])
    expect(a2aAgentFormToRequest({ urls: 'http://a/', agentId: ' ', token: '' })).toEqual({
      ok: true,
      request: { urls: ['http://a/'] },
    })
    expect(a2aAgentFormToRequest({ urls: 'http://a/', agentId: 'w', token: ' t ' })).toEqual({
      ok: true,
      request: { agentId: 'w', urls: ['http://a/'], credentials: { type: 'bearer', token: ' t ' } },
    })
    const badId = a2aAgentFormToRequest({ urls: 'http://a/', agentId: 'has space', token: '' })
    expect(badId).toMatchObject({ ok: false, message: expect.stringContaining('agent id') })
    expect(mcpServerFormToRequest({ name: 'files', url: 'ftp://x', token: '' })).toMatchObject({
      ok: false,
      message: expect.stringContaining('URL'),
    })
  })
})
