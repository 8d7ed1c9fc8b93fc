import { CONFIG_SOURCES, type GatewayConfigInput } from './config.js'

type ConfigKey = keyof typeof CONFIG_SOURCES
type Assignments = Partial<Record<ConfigKey, string>>

/**
 * Reads the `PARLEY_*` variables of `env` into a config input. Empty values count as unset. The caller
 * passes `process.env`; nothing here reads it directly.
 */
export function readEnvConfig(env: Record<string, string | undefined>): GatewayConfigInput {
  const assignments: Assignments = {}
  for (const [key, source] of Object.entries(CONFIG_SOURCES) as [ConfigKey, { env: string }][]) {
    const value = env[source.env]
    if (value !== undefined && value.trim() !== '') assignments[key] = value.trim()
  }
  return toConfigInput(assignments)
}

/** Turns flat `key` / `section.key` assignments (`session.timeout`, `delivery.ackTimeout`) into a nested input. */
export function toConfigInput(assignments: Assignments): GatewayConfigInput {
  const input: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(assignments)) {
    if (value === undefined) continue
    const dot = key.indexOf('.')
    if (dot === -1) {
      input[key] = value
      continue
    }
    const section = key.slice(0, dot)
    const existing = input[section]
    const nested: Record<string, unknown> = isPlainObject(existing) ? existing : {}
    nested[key.slice(dot + 1)] = value
    input[section] = nested
  }
  return input as GatewayConfigInput
}

/** Layers config inputs: later ones win, option by option (including inside sections such as `delivery`). */
export function mergeConfigInputs(...layers: GatewayConfigInput[]): GatewayConfigInput {
  const merged: Record<string, unknown> = {}
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue
      const existing = merged[key]
      merged[key] = isPlainObject(value) && isPlainObject(existing) ? { ...existing, ...value } : value
    }
  }
  return merged as GatewayConfigInput
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
