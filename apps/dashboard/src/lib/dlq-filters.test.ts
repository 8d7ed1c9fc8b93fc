import { describe, expect, it } from 'vitest'
import {
  deadLetterSearchParams,
  describeDeadLetterFilters,
  hasNoFilter,
  normaliseDeadLetterFilters,
  parseDeadLetterRequest,
  purgeSearchParams,
} from './dlq-filters'

describe('deadLetterSearchParams', () => {
  it('leaves out empty and blank fields', () => {
    expect(deadLetterSearchParams({}).toString()).toBe('')
    expect(deadLetterSearchParams({ recipient: '  ', channel: '' }).toString()).toBe('')
  })

  it('writes fields in a fixed order whatever the object order', () => {
    const a = deadLetterSearchParams({ limit: 20, kind: 'direct', cursor: 'c1', recipient: 'billing' })
    const b = deadLetterSearchParams({ recipient: 'billing', cursor: 'c1', kind: 'direct', limit: 20 })
    expect(a.toString()).toBe('recipient=billing&kind=direct&cursor=c1&limit=20')
    expect(b.toString()).toBe(a.toString())
  })

  it('encodes user text so it cannot inject other parameters', () => {
    const params = deadLetterSearchParams({ recipient: 'a&kind=channel', channel: 'x y' })
    expect(params.get('recipient')).toBe('a&kind=channel')
    expect(params.get('kind')).toBeNull()
    expect(params.toString()).toBe('recipient=a%26kind%3Dchannel&channel=x+y')
  })
})

describe('purgeSearchParams', () => {
  it('carries the filters and never a cursor or limit, which would not narrow a purge', () => {
    const request = { recipient: ' billing ', cursor: 'c1', limit: 5 }
    expect(purgeSearchParams(request).toString()).toBe('recipient=billing')
  })

  it('is empty without filters: the purge then covers the whole queue', () => {
    expect(purgeSearchParams({ recipient: ' ' }).toString()).toBe('')
  })
})

describe('normaliseDeadLetterFilters', () => {
  it('trims values and drops empties and unknown kinds', () => {
    expect(
      normaliseDeadLetterFilters({
        recipient: ' billing ',
        channel: '',
        kind: 'teleport' as unknown as 'direct',
      }),
    ).toEqual({ recipient: 'billing' })
    expect(normaliseDeadLetterFilters({ kind: 'channel', channel: 'alerts' })).toEqual({
      channel: 'alerts',
      kind: 'channel',
    })
  })

  it('says whether any filter is set', () => {
    expect(hasNoFilter({})).toBe(true)
    expect(hasNoFilter({ recipient: '   ' })).toBe(true)
    expect(hasNoFilter({ kind: 'direct' })).toBe(false)
  })
})

describe('describeDeadLetterFilters', () => {
  it('names each filter, quoting user text', () => {
    expect(describeDeadLetterFilters({ recipient: 'bill "the" agent', kind: 'direct' })).toBe(
      'recipient "bill \\"the\\" agent", kind direct',
    )
    expect(describeDeadLetterFilters({})).toBe('no filter')
  })
})

describe('parseDeadLetterRequest', () => {
  it('accepts valid filters from search params', () => {
    expect(
      parseDeadLetterRequest(new URLSearchParams('recipient=billing&kind=channel&channel=alerts&cursor=abc')),
    ).toEqual({
      ok: true,
      request: { recipient: 'billing', kind: 'channel', channel: 'alerts', cursor: 'abc' },
    })
  })

  it('accepts a record of Next.js search params and takes the first of repeated values', () => {
    expect(parseDeadLetterRequest({ recipient: ['a', 'b'], channel: '', limit: '20' })).toEqual({
      ok: true,
      request: { recipient: 'a', limit: 20 },
    })
  })

  it('says which field is wrong and what it should be', () => {
    expect(parseDeadLetterRequest({ kind: 'teleport' })).toEqual({
      ok: false,
      message: 'kind must be one of direct, channel, webhook',
    })
    expect(parseDeadLetterRequest({ recipient: 'x'.repeat(201), limit: '0' })).toEqual({
      ok: false,
      message: 'recipient must be at most 200 characters; limit must be a whole number from 1 to 500',
    })
  })
})
