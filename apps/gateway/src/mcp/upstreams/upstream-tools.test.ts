import { describe, expect, it } from 'vitest'
import { upstreamTools } from './upstream-tools.js'

const objectSchema = { type: 'object' as const, properties: { a: { type: 'number' } } }

describe('upstreamTools', () => {
  it('names each tool mcp:{server}__{escaped tool} and keeps its title, description and schemas', () => {
    const { tools, skipped } = upstreamTools('calc', [
      {
        name: 'files.read',
        title: 'Read',
        description: 'Reads a file',
        inputSchema: objectSchema,
        outputSchema: objectSchema,
      },
    ])
    expect(skipped).toEqual([])
    expect(tools).toEqual([
      {
        capability: 'mcp:calc__files.2eread',
        listedName: 'calc__files.2eread',
        toolName: 'files.read',
        description: 'Reads a file',
        spec: {
          name: 'mcp:calc__files.2eread',
          title: 'Read',
          description: 'Reads a file',
          inputSchema: objectSchema,
          outputSchema: objectSchema,
        },
      },
    ])
  })

  it("drops another draft's $schema, and leaves out a schema that does not compile or is too large", () => {
    const { tools } = upstreamTools('s', [
      {
        name: 'draft7',
        inputSchema: { ...objectSchema, $schema: 'http://json-schema.org/draft-07/schema#' },
      },
      { name: 'broken', inputSchema: { type: 'object', properties: { a: { type: 'no-such-type' } } } },
      {
        name: 'huge',
        inputSchema: {
          type: 'object',
          properties: { a: { type: 'string', description: 'x'.repeat(70_000) } },
        },
      },
    ])
    expect(tools.map((tool) => [tool.toolName, tool.spec.inputSchema])).toEqual([
      ['draft7', objectSchema],
      ['broken', undefined],
      ['huge', undefined],
    ])
  })

  it('clips long titles and descriptions, takes the title from annotations, and skips a second tool of one name', () => {
    const { tools, skipped } = upstreamTools('s', [
      {
        name: 'long',
        annotations: { title: 'From annotations' },
        description: 'd'.repeat(5_000),
        inputSchema: { type: 'object' },
      },
      { name: 'long', description: 'again', inputSchema: { type: 'object' } },
    ])
    expect(tools).toHaveLength(1)
    expect(tools[0]?.spec.title).toBe('From annotations')
    expect(tools[0]?.spec.description).toHaveLength(4_000)
    expect(skipped).toEqual(['tool "long": listed twice'])
  })
})
