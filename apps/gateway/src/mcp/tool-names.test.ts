import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_TOOL_NAME_LENGTH, parseToolName, toolName, upstreamToolOf } from './tool-names.js'

const MCP_NAME = /^[A-Za-z0-9_.-]{1,128}$/
const agentId = fc.stringMatching(/^[A-Za-z0-9_\-.:@]{1,128}$/)
const capability = fc.stringMatching(/^[A-Za-z0-9_\-.:/]{1,100}$/)
/** Any text, odd characters included (MCP server tools are not bound by Parley's capability grammar). */
const anyText = fc.string({ minLength: 1, maxLength: 60, unit: 'binary' })

describe('MCP tool names', () => {
  it('keeps plain names readable and joins owner and capability with __', () => {
    expect(toolName('echo', 'echo.loud')).toBe('echo__echo.loud')
    expect(toolName('my-agent', 'search_docs')).toBe('my-agent__search_docs')
    expect(toolName('github', 'create_issue')).toBe('github__create_issue')
  })

  it('escapes characters MCP does not allow, _ in the owner, and a - that would read as an escape', () => {
    expect(toolName('team:bot', 'files/read')).toBe('team-3abot__files-2fread')
    expect(toolName('a__b', 'c')).toBe('a-5f-5fb__c')
    expect(toolName('a', 'b__c')).toBe('a__b__c')
    expect(toolName('x-1f', 'a-h')).toBe('x-2d1f__a-2dh')
    expect(toolName('bot@example', 'é')).toBe('bot-40example__-c3-a9')
  })

  it('shortens a long name to 128 characters with a hash, never equal to an unshortened name', () => {
    const long = toolName('a'.repeat(100), 'b'.repeat(100))
    expect(long).toHaveLength(MAX_TOOL_NAME_LENGTH)
    expect(long).toMatch(/-h[0-9a-f]{16}$/)
    expect(toolName('a'.repeat(100), 'b'.repeat(99))).not.toBe(long)
    expect(parseToolName(long)).toBeUndefined()
  })

  it('rejects names that are not the canonical spelling of a pair', () => {
    expect(parseToolName('nosplit')).toBeUndefined()
    expect(parseToolName('__x')).toBeUndefined()
    expect(parseToolName('a-41__c')).toBeUndefined()
    expect(parseToolName('a__')).toBeUndefined()
    expect(parseToolName('a-ff__c')).toBeUndefined()
  })

  it('gives every (owner, capability) pair a valid MCP name that parses back to the pair', () => {
    fc.assert(
      fc.property(fc.oneof(agentId, anyText), fc.oneof(capability, anyText), (owner, cap) => {
        const name = toolName(owner, cap)
        expect(name).toMatch(MCP_NAME)
        expect(toolName(owner, cap)).toBe(name)
        if (name.length < MAX_TOOL_NAME_LENGTH || !/-h[0-9a-f]{16}$/.test(name))
          expect(parseToolName(name)).toEqual({ owner, capability: cap })
      }),
      { numRuns: 2_000 },
    )
  })

  it('gives distinct pairs distinct names', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.oneof(agentId, anyText), fc.oneof(capability, anyText)),
        fc.tuple(fc.oneof(agentId, anyText), fc.oneof(capability, anyText)),
        ([ownerA, capA], [ownerB, capB]) => {
          fc.pre(ownerA !== ownerB || capA !== capB)
          expect(toolName(ownerA, capA)).not.toBe(toolName(ownerB, capB))
        },
      ),
      { numRuns: 2_000 },
    )
    // Pairs built to collide under a naive join: the separator and the escape character itself.
    const tricky: Array<[string, string]> = [
      ['a', 'b__c'],
      ['a__b', 'c'],
      ['a_', '_b'],
      ['a', '__b'],
      ['a-3a', 'b'],
      ['a:', 'b'],
      ['a-', 'b'],
      ['a', '-b'],
      ['x-2d', 'y'],
      ['x-', '2dy'],
    ]
    const names = tricky.map(([owner, cap]) => toolName(owner, cap))
    expect(new Set(names).size).toBe(tricky.length)
  })

  it('reads an upstream tool capability (mcp:{server}__{tool})', () => {
    expect(upstreamToolOf('mcp:github__create_issue')).toEqual({ server: 'github', tool: 'create_issue' })
    expect(upstreamToolOf('mcp:github__a__b')).toEqual({ server: 'github', tool: 'a__b' })
    expect(upstreamToolOf('echo')).toBeUndefined()
    expect(upstreamToolOf('mcp:__x')).toBeUndefined()
  })
})
