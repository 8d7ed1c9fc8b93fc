import { createRequire } from 'node:module'
import type { CapabilityInfo } from '@parley/protocol'
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'

/**
 * JSON Schemas that agents declare for their capabilities' input (`CapabilityInfo.inputSchema`): compiled once
 * at registration (a schema that does not compile refuses the registration) and used to check arguments before
 * they reach the agent (MCP `tools/call`, A2A data parts). Compiled validators are cached by the schema's text.
 */
let ajv: Ajv2020 | undefined
// Loaded when the first schema is compiled (ajv is 3.5 MB of a gateway's resident memory; an idle gateway, or
// one whose agents declare no schema, never needs it). ajv is CommonJS, so a synchronous require does.
function validator(): Ajv2020 {
  if (ajv === undefined) {
    const { Ajv2020: Ajv } = createRequire(import.meta.url)(
      'ajv/dist/2020.js',
    ) as typeof import('ajv/dist/2020.js')
    ajv = new Ajv({ allErrors: false, strict: false, validateFormats: false })
  }
  return ajv
}
const MAX_CACHED = 1_000
const cache = new Map<string, ValidateFunction>()

function compiled(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema)
  const hit = cache.get(key)
  if (hit !== undefined) return hit
  const compiler = validator()
  const validate = compiler.compile(schema)
  // Ajv keeps schemas with an `$id`; drop them so a later registration may reuse the id.
  if (typeof schema.$id === 'string') compiler.removeSchema(schema.$id)
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string)
  cache.set(key, validate)
  return validate
}

/** Why the capabilities' schemas cannot be used, or undefined when every schema compiles. */
export function capabilitySchemaProblem(info: Record<string, CapabilityInfo>): string | undefined {
  for (const [capability, described] of Object.entries(info)) {
    for (const field of ['inputSchema', 'outputSchema'] as const) {
      const schema = described[field]
      if (schema === undefined) continue
      try {
        compiled(schema)
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        return `capability ${capability}: ${field} is not a usable JSON Schema (${reason.slice(0, 300)})`
      }
    }
  }
  return undefined
}

function describe(errors: ErrorObject[] | null | undefined): string {
  const first = errors?.[0]
  if (first === undefined) return 'does not match the schema'
  return `${first.instancePath === '' ? 'the input' : first.instancePath} ${first.message ?? 'is invalid'}`
}

/**
 * Checks data against a capability's input schema: undefined when it fits (or there is no schema), else a
 * short reason naming the first mismatch.
 */
export function inputProblem(info: CapabilityInfo | undefined, data: unknown): string | undefined {
  const schema = info?.inputSchema
  if (schema === undefined) return undefined
  let validate: ValidateFunction
  try {
    validate = compiled(schema)
  } catch {
    return 'the capability declares an input schema that does not compile'
  }
  return validate(data) ? undefined : describe(validate.errors)
}
