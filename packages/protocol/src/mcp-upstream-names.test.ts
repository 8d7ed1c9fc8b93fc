import { describe, expect, it } from 'vitest'
import { Capability } from './admin.js'
import { mcpServerOfCapability, mcpToolCapability, mcpUpstreamToolName } from './mcp-upstream-names.js'

const MCP_TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/

describe('upstream MCP tool names', () => {
  it('keeps letters, digits, _ and - and prefixes the server', () => {
    expect(mcpToolCapability('github', 'create_issue')).toBe('mcp:github__create_issue')
    expect(mcpUpstreamToolName('docs', 'resolve-library-id')).toBe('docs__resolve-library-id')
    expect(mcpToolCapability('s', 'a__b')).toBe('mcp:s__a__b')
  })

  it('escapes every other character (dots included) as .hh per UTF-8 byte', () => {
    expect(mcpToolCapability('fs', 'files.read')).toBe('mcp:fs__files.2eread')
    expect(mcpToolCapability('fs', 'a b/c')).toBe('mcp:fs__a.20b.2fc')
    expect(mcpToolCapability('fs', 'é')).toBe('mcp:fs__.c3.a9')
    // The escaped text of one name is never the raw text of another.
    expect(mcpToolCapability('fs', '.2e')).not.toBe(mcpToolCapability('fs', '.'))
  })

  it('shortens long names to 100 characters with a hash of the whole name, never colliding', () => {
    const server = 'a-rather-long-server-name-32char'
    const long = 'x'.repeat(200)
    const longer = `${'x'.repeat(200)}y`
    const first = mcpToolCapability(server, long)
    const second = mcpToolCapability(server, longer)
    expect(first).toHaveLength(100)
    expect(first).not.toBe(second)
    expect(first).toMatch(/\.h[0-9a-f]{16}$/)
    // Cut between escape sequences, never inside one.
    const dotted = mcpToolCapability(server, '.'.repeat(100))
    expect(dotted).toMatch(/^mcp:a-rather-long-server-name-32char__(\.2e)+\.h[0-9a-f]{16}$/)
    expect(dotted.length).toBeLessThanOrEqual(100)
    // Stable: the same name always gives the same capability.
    expect(mcpToolCapability(server, long)).toBe(first)
  })

  it('always gives a valid capability and a valid MCP tool name, one per distinct tool', () => {
    const names = ['', 'a', 'A.b', 'a.2eb', 'ü', '🙂', 'x'.repeat(128), `${'y'.repeat(60)}.z`, 'tab\tname']
    const seen = new Set<string>()
    for (const name of names) {
      const capability = mcpToolCapability('srv', name)
      if (name !== '') expect(Capability.safeParse(capability).success).toBe(true)
      expect(mcpUpstreamToolName('srv', name)).toMatch(name === '' ? /^srv__$/ : MCP_TOOL_NAME)
      seen.add(capability)
    }
    expect(seen.size).toBe(names.length)
  })

  it('reads the server back from a capability', () => {
    expect(mcpServerOfCapability(mcpToolCapability('my-srv', 'a__b'))).toBe('my-srv')
    expect(mcpServerOfCapability('summarize')).toBeUndefined()
    expect(mcpServerOfCapability('mcp:__x')).toBeUndefined()
  })
})
