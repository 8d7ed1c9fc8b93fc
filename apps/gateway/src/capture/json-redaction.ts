/**
 * Redaction of captured payloads by JSON path, before anything is stored. A path starts at `$` and goes on
 * with `.name`, `['name']`, `[3]`, `.*` or `[*]` (every member or item), and `..name` (a member of that name at
 * any depth). A value a path reaches is replaced by `REDACTED`; the concrete paths replaced are reported, so
 * the Conversation view can show which fields were redacted.
 */

export const REDACTED = '[redacted]'

type Segment =
  | { kind: 'member'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'every' }
  | { kind: 'anywhere'; name: string }

export interface JsonPath {
  text: string
  segments: Segment[]
}

/** A path that does not follow the syntax above. */
export class JsonPathError extends Error {
  override readonly name = 'JsonPathError'
}

const NAME = /^[A-Za-z_$][\w$-]*/

export function parseJsonPath(text: string): JsonPath {
  const fail = (why: string): never => {
    throw new JsonPathError(`invalid JSON path ${JSON.stringify(text)}: ${why}`)
  }
  if (!text.startsWith('$')) fail('it must start with $')
  const segments: Segment[] = []
  let rest = text.slice(1)
  while (rest.length > 0) {
    if (rest.startsWith('..')) {
      const name = NAME.exec(rest.slice(2))?.[0] ?? fail('.. must be followed by a member name')
      segments.push({ kind: 'anywhere', name })
      rest = rest.slice(2 + name.length)
    } else if (rest.startsWith('.*')) {
      segments.push({ kind: 'every' })
      rest = rest.slice(2)
    } else if (rest.startsWith('.')) {
      const name = NAME.exec(rest.slice(1))?.[0] ?? fail('. must be followed by a member name')
      segments.push({ kind: 'member', name })
      rest = rest.slice(1 + name.length)
    } else if (rest.startsWith('[*]')) {
      segments.push({ kind: 'every' })
      rest = rest.slice(3)
    } else if (/^\[\d+\]/.test(rest)) {
      const digits = /^\[(\d+)\]/.exec(rest)?.[1] ?? ''
      segments.push({ kind: 'index', index: Number(digits) })
      rest = rest.slice(digits.length + 2)
    } else if (/^\['[^']+'\]/.test(rest)) {
      const name = /^\['([^']+)'\]/.exec(rest)?.[1] ?? ''
      segments.push({ kind: 'member', name })
      rest = rest.slice(name.length + 4)
    } else {
      fail(`unexpected ${JSON.stringify(rest.slice(0, 10))}`)
    }
  }
  if (segments.length === 0) fail('it names no field ($ alone would redact the whole payload)')
  return { text, segments }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const memberPath = (at: string, name: string) =>
  NAME.test(name) && NAME.exec(name)?.[0] === name ? `${at}.${name}` : `${at}['${name}']`

/**
 * Replaces, in `value` itself (pass a copy), what each path reaches; returns the concrete paths replaced, in
 * the order found, without repeats.
 */
export function redactInPlace(value: unknown, paths: readonly JsonPath[]): string[] {
  const replaced = new Set<string>()
  const walk = (node: unknown, segments: readonly Segment[], at: string, set: (v: unknown) => void): void => {
    const [segment, ...rest] = segments
    if (segment === undefined) {
      set(REDACTED)
      replaced.add(at)
      return
    }
    const children = (): [string, unknown, (v: unknown) => void][] => {
      if (Array.isArray(node))
        return node.map((child, index) => [
          `${at}[${index}]`,
          child,
          (v) => {
            node[index] = v
          },
        ])
      if (isObject(node))
        return Object.entries(node).map(([name, child]) => [
          memberPath(at, name),
          child,
          (v) => {
            node[name] = v
          },
        ])
      return []
    }
    switch (segment.kind) {
      case 'member':
        if (isObject(node) && Object.hasOwn(node, segment.name)) {
          walk(node[segment.name], rest, memberPath(at, segment.name), (v) => {
            node[segment.name] = v
          })
        }
        return
      case 'index':
        if (Array.isArray(node) && segment.index < node.length) {
          walk(node[segment.index], rest, `${at}[${segment.index}]`, (v) => {
            node[segment.index] = v
          })
        }
        return
      case 'every':
        for (const [path, child, setChild] of children()) walk(child, rest, path, setChild)
        return
      case 'anywhere':
        for (const [path, child, setChild] of children()) {
          if (isObject(node) && path === memberPath(at, segment.name)) walk(child, rest, path, setChild)
          else walk(child, segments, path, setChild)
        }
        return
    }
  }
  for (const path of paths) walk(value, path.segments, '$', () => {})
  return [...replaced]
}
