import { describe, expect, it } from 'vitest'
import { capabilitySchemaProblem, inputProblem } from './capability-schemas.js'

const point = {
  type: 'object',
  properties: { x: { type: 'number' }, y: { type: 'number' } },
  required: ['x'],
  additionalProperties: false,
}

describe('capability schemas', () => {
  it('accepts capabilities whose input and output schemas compile', () => {
    expect(
      capabilitySchemaProblem({ plot: { inputSchema: point, outputSchema: { type: 'string' } } }),
    ).toBeUndefined()
  })

  it('names the capability and field of a schema that does not compile', () => {
    const problem = capabilitySchemaProblem({ plot: { inputSchema: { type: 'not-a-type' } } })
    expect(problem).toMatch(/^capability plot: inputSchema is not a usable JSON Schema/)
  })

  it('checks data against the input schema and names the first mismatch', () => {
    expect(inputProblem({ inputSchema: point }, { x: 1, y: 2 })).toBeUndefined()
    expect(inputProblem({ inputSchema: point }, { y: 2 })).toMatch(/must have required property 'x'/)
    expect(inputProblem({ inputSchema: point }, { x: 'one' })).toMatch(/\/x must be number/)
  })

  it('lets any data through a capability without a schema', () => {
    expect(inputProblem(undefined, 'anything')).toBeUndefined()
    expect(inputProblem({ description: 'free form' }, { any: ['thing'] })).toBeUndefined()
  })

  it('allows two registrations of a schema with the same $id', () => {
    const schema = { $id: 'https://example.test/p', type: 'object' }
    expect(capabilitySchemaProblem({ a: { inputSchema: schema } })).toBeUndefined()
    expect(capabilitySchemaProblem({ b: { inputSchema: { ...schema, required: ['z'] } } })).toBeUndefined()
  })
})
