import { describe, expect, it } from 'vitest'
import { presenceList } from '@/test-support/presence-fixtures'
import { filterPresence, formatMetadata, presenceTone } from './presence'

describe('filterPresence', () => {
  it('keeps everyone for an empty or blank filter', () => {
    expect(filterPresence(presenceList, '')).toBe(presenceList)
    expect(filterPresence(presenceList, '   ')).toBe(presenceList)
  })

  it('matches a part of the client id, the principal or the status, ignoring case', () => {
    const ids = (filter: string) => filterPresence(presenceList, filter).clients.map((c) => c.clientId)
    expect(ids('PHONE')).toEqual(['ana-phone'])
    expect(ids('tok_support')).toEqual(['support-bot'])
    expect(ids('busy')).toEqual(['billing-agent'])
    expect(ids('zzz')).toEqual([])
  })

  it('keeps a principal whose name, status or one of its clients matches', () => {
    const principals = (filter: string) =>
      filterPresence(presenceList, filter).principals.map((p) => p.principal)
    expect(principals('ana-phone')).toEqual(['tok_billing'])
    expect(principals('online')).toEqual(['tok_support'])
    expect(principals('tok_')).toEqual(['tok_billing', 'tok_support'])
  })

  it('does not match on metadata, nodes or channels', () => {
    expect(filterPresence(presenceList, 'summarising').clients).toEqual([])
    expect(filterPresence(presenceList, 'node-a').clients).toEqual([])
    expect(filterPresence(presenceList, 'room.42').clients).toEqual([])
  })
})

describe('formatMetadata', () => {
  it('shows key=value pairs, strings unquoted and other values as JSON', () => {
    expect(formatMetadata({ task: 'summarising', load: 0.4, tags: ['a', 'b'], on: true, none: null })).toBe(
      'task=summarising load=0.4 tags=["a","b"] on=true none=null',
    )
  })

  it('shows a dash for no metadata', () => {
    expect(formatMetadata({})).toBe('—')
  })

  it('cuts long metadata with an ellipsis, never inside a character', () => {
    const text = formatMetadata({ note: '🙂'.repeat(100) }, 10)
    expect(Array.from(text)).toHaveLength(10)
    expect(text).toBe(`note=${'🙂'.repeat(4)}…`)
  })
})

describe('presenceTone', () => {
  it('colours the usual statuses and leaves custom ones neutral', () => {
    expect(presenceTone('online')).toBe('ok')
    expect(presenceTone('Available')).toBe('ok')
    expect(presenceTone('busy')).toBe('warn')
    expect(presenceTone('away')).toBe('warn')
    expect(presenceTone('in-a-meeting')).toBe('neutral')
  })
})
