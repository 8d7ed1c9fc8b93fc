import { readFileSync } from 'node:fs'
import { CONFIG_SOURCES, ConfigError, type GatewayConfigInput } from './config.js'

type ConfigKey = keyof typeof CONFIG_SOURCES
type Assignments = Partial<Record<ConfigKey, string>>
type Env = Record<string, string | undefined>

/** Reads a whole file as UTF-8; injected in tests. */
export type ReadTextFile = (path: string) => string

const readTextFile: ReadTextFile = (path) => readFileSync(path, 'utf8')

/**
 * Reads the `PARLEY_*` variables of `env` into a config input. Empty values count as unset. Each variable may
 * instead be given as `<NAME>_FILE`, the path of a file holding the value (container secrets: the value never
 * sits in the environment, where `inspect` and child processes see it). The caller passes `process.env`;
 * nothing here reads it directly.
 */
export function readEnvConfig(env: Env, readFile: ReadTextFile = readTextFile): GatewayConfigInput {
  const assignments: Assignments = {}
  for (const [key, source] of Object.entries(CONFIG_SOURCES) as [ConfigKey, { env: string }][]) {
    const value = readEnvValue(env, source.env, readFile)
    if (value !== undefined) assignments[key] = value
  }
  return toConfigInput(assignments)
}

/**
 * The value of `name`, or the content of the file named by `<name>_FILE` (surrounding whitespace, such as the
 * final newline of a secret file, is dropped). Both set, or a file that cannot be read, is a `ConfigError`
 * naming the variable and the path, never the value.
 */
export function readEnvValue(
  env: Env,
  name: string,
  readFile: ReadTextFile = readTextFile,
): string | undefined {
  const direct = setOrUndefined(env[name])
  const path = setOrUndefined(env[`${name}_FILE`])
  if (path === undefined) return direct
  if (direct !== undefined) {
    throw new ConfigError(`Invalid configuration: ${name} and ${name}_FILE are both set; keep one`)
  }
  let content: string
  try {
    content = readFile(path)
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? ` (${String(error.code)})` : ''
    throw new ConfigError(`Invalid configuration: ${name}_FILE names ${path}, which cannot be read${reason}`)
  }
  return setOrUndefined(content)
}

function setOrUndefined(value: string | undefined): string | undefined {
  const trimmed = value?.trim()
  return trimmed === '' ? undefined : trimmed
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
