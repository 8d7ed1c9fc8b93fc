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

/** Turns flat `key` / `session.key` assignments into a nested config input. */
export function toConfigInput(assignments: Assignments): GatewayConfigInput {
  const input: Record<string, unknown> = {}
  const session: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(assignments)) {
    if (value === undefined) continue
    if (key.startsWith('session.')) session[key.slice('session.'.length)] = value
    else input[key] = value
  }
  if (Object.keys(session).length > 0) input.session = session
  return input as GatewayConfigInput
}

/** Layers config inputs: later ones win, option by option (including inside `session`). */
export function mergeConfigInputs(...layers: GatewayConfigInput[]): GatewayConfigInput {
  const merged: GatewayConfigInput = {}
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue
      if (key === 'session') merged.session = { ...merged.session, ...layer.session }
      else Object.assign(merged, { [key]: value })
    }
  }
  return merged
}
