import { describe, expect, it } from 'vitest'
import { JsonPathError, parseJsonPath, REDACTED, redactInPlace } from './json-redaction.js'

const redact = (value: unknown, ...paths: string[]) => {
  const copy = structuredClone(value)
  const replaced = redactInPlace(copy, paths.map(parseJsonPath))
  return { value: copy, replaced }
}

describe('JSON path redaction', () => {
  it('replaces a member, a nested member and a quoted member, and names each path it replaced', () => {
    const { value, replaced } = redact(
      { password: 'hunter2', user: { token: 't', name: 'ann' }, 'api-key': 'k', keep: 1 },
      '$.password',
      '$.user.token',
      "$['api-key']",
    )
    expect(value).toEqual({
      password: REDACTED,
      user: { token: REDACTED, name: 'ann' },
      'api-key': REDACTED,
      keep: 1,
    })
    expect(replaced).toEqual(['$.password', '$.user.token', '$.api-key'])
  })

  it('replaces through wildcards, indexes and at any depth', () => {
    const { value, replaced } = redact(
      { items: [{ secret: 1 }, { secret: 2 }], deep: { a: { secret: 3 } }, list: ['x', 'y'] },
      '$.items[*].secret',
      '$..secret',
      '$.list[1]',
    )
    expect(value).toEqual({
      items: [{ secret: REDACTED }, { secret: REDACTED }],
      deep: { a: { secret: REDACTED } },
      list: ['x', REDACTED],
    })
    expect(replaced).toEqual(['$.items[0].secret', '$.items[1].secret', '$.deep.a.secret', '$.list[1]'])
  })

  it('leaves a payload without the named fields alone and reports nothing', () => {
    expect(redact({ a: 1 }, '$.password', '$.b.c', '$.list[3]')).toEqual({ value: { a: 1 }, replaced: [] })
    expect(redact('text', '$.password')).toEqual({ value: 'text', replaced: [] })
  })

  it('refuses a path that does not follow the syntax, naming it', () => {
    for (const bad of ['password', '$', '$.', '$..', '$[x]', '$.a b']) {
      expect(() => parseJsonPath(bad)).toThrow(JsonPathError)
    }
    expect(() => parseJsonPath('user.password')).toThrow(/"user.password": it must start with \$/)
  })
})
