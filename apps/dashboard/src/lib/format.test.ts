import { describe, expect, it } from 'vitest'
import {
  formatAge,
  formatCount,
  formatDataPreview,
  formatJson,
  formatScopes,
  formatUptime,
  formatUtc,
  secondsBetween,
  secondsSince,
  truncateText,
} from './format'

describe('formatUtc', () => {
  it('shows an ISO time in UTC whatever its offset', () => {
    expect(formatUtc('2024-05-01T12:30:05+02:00')).toBe('2024-05-01 10:30:05 UTC')
  })

  it('shows a dash for no time and the raw text for an unparsable one', () => {
    expect(formatUtc(null)).toBe('—')
    expect(formatUtc('soon')).toBe('soon')
  })
})

describe('formatUptime', () => {
  it('keeps the two largest units', () => {
    expect(formatUptime(0)).toBe('0s')
    expect(formatUptime(42.9)).toBe('42s')
    expect(formatUptime(303)).toBe('5m 3s')
    expect(formatUptime(7_500)).toBe('2h 5m')
    expect(formatUptime(3 * 86_400 + 4 * 3_600 + 59)).toBe('3d 4h')
  })
})

describe('formatCount', () => {
  it('groups thousands and shows a dash for no value', () => {
    expect(formatCount(1234567)).toBe('1,234,567')
    expect(formatCount(null)).toBe('—')
  })
})

describe('formatJson', () => {
  it('pretty-prints data with two spaces, markup kept as plain characters', () => {
    expect(formatJson({ html: '<img src=x onerror=alert(1)>', n: [1] })).toBe(
      '{\n  "html": "<img src=x onerror=alert(1)>",\n  "n": [\n    1\n  ]\n}',
    )
  })

  it('shows strings, null and numbers as JSON and missing data as such', () => {
    expect(formatJson('hi')).toBe('"hi"')
    expect(formatJson(null)).toBe('null')
    expect(formatJson(7)).toBe('7')
    expect(formatJson(undefined)).toBe('(no data)')
  })
})

describe('formatDataPreview', () => {
  it('shows short data on one line as it is', () => {
    expect(formatDataPreview({ a: 1, b: 'x' })).toBe('{"a":1,"b":"x"}')
    expect(formatDataPreview(undefined)).toBe('—')
  })

  it('cuts long data at the limit with an ellipsis, never inside a character', () => {
    const preview = formatDataPreview({ text: 'a'.repeat(200) }, 20)
    expect(preview).toBe(`{"text":"${'a'.repeat(10)}…`)
    expect(Array.from(preview)).toHaveLength(20)
    expect(formatDataPreview('😀'.repeat(30), 5)).toBe(`"${'😀'.repeat(3)}…`)
  })
})

describe('formatAge and secondsBetween', () => {
  it('says how long ago, with the two largest units', () => {
    expect(formatAge(0)).toBe('0s ago')
    expect(formatAge(125.7)).toBe('2m 5s ago')
  })

  it('measures whole seconds from a time to a moment, never negative, null for a non-time', () => {
    const asOf = Date.parse('2024-05-01T10:00:10.900Z')
    expect(secondsBetween('2024-05-01T10:00:00.000Z', asOf)).toBe(10)
    expect(secondsBetween('2024-05-01T10:00:30.000Z', asOf)).toBe(0)
    expect(secondsBetween('yesterday', asOf)).toBeNull()
  })
})

describe('formatScopes', () => {
  it('joins scopes with spaces and shows a dash for none', () => {
    expect(formatScopes(['publish:alerts.*', 'subscribe:*'])).toBe('publish:alerts.* subscribe:*')
    expect(formatScopes([])).toBe('—')
  })
})

describe('secondsSince', () => {
  it('counts whole seconds from an epoch-ms time, never below zero', () => {
    expect(secondsSince(1_000, 13_999)).toBe(12)
    expect(secondsSince(20_000, 10_000)).toBe(0)
  })
})

describe('truncateText', () => {
  it('keeps short text and cuts long text with an ellipsis as its last character', () => {
    expect(truncateText('short', 10)).toBe('short')
    expect(truncateText('abcdefghijkl', 5)).toBe('abcd…')
  })
})
