import { type DeadLetter, DeadLetterPage } from '@parley/protocol/admin'
import { describe, expect, it } from 'vitest'
import {
  type DeadLetterPages,
  deadLettersOf,
  purgedDeadLetterPages,
  withoutDeadLetter,
} from './dead-letter-pages'
import { failed, succeeded } from './gateway-result'

function letter(id: string): DeadLetter {
  return {
    id,
    messageId: `msg_${id}`,
    kind: 'direct',
    recipient: 'billing',
    source: 'planner',
    channel: null,
    data: { n: id },
    attempts: 3,
    reason: 'max_retries',
    lastError: null,
    createdAt: '2024-05-01T10:30:00.000Z',
    deadAt: '2024-05-01T10:31:00.000Z',
    requeues: 0,
    requeuedAt: null,
  }
}

function page(ids: string[], nextCursor: string | null) {
  return succeeded(DeadLetterPage.parse({ deadLetters: ids.map(letter), nextCursor }))
}

describe('deadLettersOf', () => {
  it('joins the pages in order, each id once, skipping failed pages', () => {
    const rows = deadLettersOf([
      page(['d3', 'd2'], 'c1'),
      failed({ kind: 'unreachable', url: 'http://gw', reason: 'ECONNREFUSED' }),
      page(['d2', 'd1'], null),
    ])
    expect(rows.map((row) => row.id)).toEqual(['d3', 'd2', 'd1'])
  })
})

describe('withoutDeadLetter', () => {
  it('removes the row from whichever page holds it and keeps the cursors', () => {
    const data: DeadLetterPages = {
      pages: [page(['d4', 'd3'], 'c1'), page(['d2', 'd1'], null)],
      pageParams: [null, 'c1'],
    }
    const next = withoutDeadLetter(data, 'd2')
    expect(deadLettersOf(next.pages).map((row) => row.id)).toEqual(['d4', 'd3', 'd1'])
    expect(next.pageParams).toEqual([null, 'c1'])
    expect(next.pages[0]).toBe(data.pages[0])
    expect(next.pages[0]?.ok && next.pages[0].data.nextCursor).toBe('c1')
  })

  it('leaves the data as it was when the row is not there', () => {
    const data: DeadLetterPages = { pages: [page(['d1'], null)], pageParams: [null] }
    expect(deadLettersOf(withoutDeadLetter(data, 'd9').pages).map((row) => row.id)).toEqual(['d1'])
  })
})

describe('purgedDeadLetterPages', () => {
  it('is one empty page with no further page to load', () => {
    const data = purgedDeadLetterPages()
    expect(deadLettersOf(data.pages)).toEqual([])
    expect(data.pages).toHaveLength(1)
    expect(data.pages[0]?.ok && data.pages[0].data.nextCursor).toBeNull()
    expect(data.pageParams).toEqual([null])
  })
})
