import { describe, expect, it } from 'vitest'
import {
  auditSearchParams,
  isoToUtcInput,
  normaliseFilters,
  parseAuditRequest,
  utcInputMinutesBefore,
  utcInputToIso,
} from './audit-filters'

describe('auditSearchParams', () => {
  it('leaves out empty and blank fields', () => {
    expect(auditSearchParams({}).toString()).toBe('')
    expect(auditSearchParams({ principal: '  ', channel: '' }).toString()).toBe('')
  })

  it('writes fields in a fixed order whatever the object order', () => {
    const a = auditSearchParams({ limit: 20, channel: 'alerts', kind: 'publish', cursor: 'c1' })
    const b = auditSearchParams({ cursor: 'c1', kind: 'publish', channel: 'alerts', limit: 20 })
    expect(a.toString()).toBe('kind=publish&channel=alerts&cursor=c1&limit=20')
    expect(b.toString()).toBe(a.toString())
  })

  it('encodes user text so it cannot inject other parameters', () => {
    const params = auditSearchParams({ channel: 'a&kind=error', principal: 'agent one' })
    expect(params.get('channel')).toBe('a&kind=error')
    expect(params.get('kind')).toBeNull()
    expect(params.toString()).toBe('principal=agent+one&channel=a%26kind%3Derror')
  })
})

describe('normaliseFilters', () => {
  it('trims values, drops empties and unknown kinds', () => {
    expect(normaliseFilters({ kind: 'publish', channel: ' alerts ', principal: '' })).toEqual({
      kind: 'publish',
      channel: 'alerts',
    })
  })
})

describe('parseAuditRequest', () => {
  it('accepts valid filters from search params', () => {
    const parsed = parseAuditRequest(
      new URLSearchParams('kind=publish&channel=alerts&since=2024-05-01T10:30:00.000Z&cursor=abc'),
    )
    expect(parsed).toEqual({
      ok: true,
      request: { kind: 'publish', channel: 'alerts', since: '2024-05-01T10:30:00.000Z', cursor: 'abc' },
    })
  })

  it('accepts a record of Next.js search params and takes the first of repeated values', () => {
    expect(parseAuditRequest({ principal: ['alice', 'bob'], channel: '', limit: '20' })).toEqual({
      ok: true,
      request: { principal: 'alice', limit: 20 },
    })
  })

  it('rejects an unknown kind and a malformed time with a message', () => {
    const badKind = parseAuditRequest({ kind: 'teleport' })
    expect(badKind.ok).toBe(false)
    if (!badKind.ok) expect(badKind.message).toMatch(/kind/)
    const badTime = parseAuditRequest({ since: 'yesterday' })
    expect(badTime.ok).toBe(false)
    if (!badTime.ok) expect(badTime.message).toMatch(/since/)
  })

  it('says which field is wrong and what it should look like', () => {
    const parsed = parseAuditRequest({ since: '2024-02-30T10:00:00Z', kind: 'teleport' })
    expect(parsed).toEqual({
      ok: false,
      message: expect.stringContaining('since must be an ISO 8601 date and time'),
    })
    if (!parsed.ok) {
      expect(parsed.message).toContain('kind must be one of connect,')
      expect(parsed.message).not.toMatch(/[✖→]/)
    }
  })

  it('rejects a since that is not before until, which would match nothing', () => {
    for (const [since, until] of [
      ['2024-05-02T00:00:00Z', '2024-05-01T00:00:00Z'],
      ['2024-05-01T00:00:00Z', '2024-05-01T00:00:00Z'],
      ['2024-05-01T03:00:00+02:00', '2024-05-01T00:30:00Z'],
    ]) {
      expect(parseAuditRequest({ since, until })).toEqual({
        ok: false,
        message: 'since must be before until',
      })
    }
    expect(parseAuditRequest({ since: '2024-05-01T00:00:00Z', until: '2024-05-01T00:00:01Z' }).ok).toBe(true)
  })

  it('rejects a limit outside what the gateway allows', () => {
    expect(parseAuditRequest({ limit: '5000' }).ok).toBe(false)
  })
})

describe('UTC time filter text', () => {
  it('reads 24-hour UTC text, with or without seconds, T or Z, into ISO 8601 and back', () => {
    expect(utcInputToIso('2024-05-01 22:30')).toBe('2024-05-01T22:30:00.000Z')
    expect(utcInputToIso('2024-05-01T22:30:15Z')).toBe('2024-05-01T22:30:15.000Z')
    expect(utcInputToIso(' 2024-05-01 22:30:15 UTC ')).toBe('2024-05-01T22:30:15.000Z')
    expect(utcInputToIso('2024-05-01')).toBe('2024-05-01T00:00:00.000Z')
    expect(isoToUtcInput('2024-05-01T22:30:00.000Z')).toBe('2024-05-01 22:30:00')
    expect(isoToUtcInput('2024-05-01T12:30:00+02:00')).toBe('2024-05-01 10:30:00')
  })

  it('gives nothing for blank, 12-hour or impossible input', () => {
    expect(utcInputToIso('')).toBeUndefined()
    expect(utcInputToIso('May 1st')).toBeUndefined()
    expect(utcInputToIso('2024-05-01 10:30 PM')).toBeUndefined()
    expect(utcInputToIso('2024-05-01 24:00')).toBeUndefined()
    expect(utcInputToIso('2024-02-31 10:00')).toBeUndefined()
    expect(isoToUtcInput(undefined)).toBe('')
    expect(isoToUtcInput('garbage')).toBe('')
  })

  it('writes the time some minutes before now for the shortcuts', () => {
    expect(utcInputMinutesBefore(Date.UTC(2024, 4, 1, 10, 0, 0), 90)).toBe('2024-05-01 08:30:00')
  })
})
