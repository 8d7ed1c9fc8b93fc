import { createHash } from 'node:crypto'
import { MCP_TOOL_SEPARATOR, MCP_UPSTREAM_CAPABILITY_PREFIX } from '@parley/protocol'

/**
 * MCP tool names for Parley capabilities. MCP allows `[A-Za-z0-9_.-]`, 1 to 128 characters; agent ids and
 * capabilities allow more (`:` `/` `@`), so both parts are escaped, then joined with `__`:
 *
 * - every character outside `[A-Za-z0-9_.-]` becomes `-xx` per UTF-8 byte, lower-case hex: `a:b` → `a-3ab`,
 *   `a/b` → `a-2fb`;
 * - a `-` stays as it is (`my-agent`), unless what follows it would read as an escape or as the shortening mark
 *   (two lower-case hex digits, or `h`): then it is escaped too, `-2d` (`x-1f` → `x-2d1f`, `a-h` → `a-2dh`);
 * - in the owner part (agent id or MCP server name) `_` is escaped too (`-5f`), so the first `__` of a name is
 *   always the separator and the capability part may hold any `_`;
 * - a name longer than 128 characters keeps its first 110 and ends with `-h` and 16 hex digits of the SHA-256
 *   of the full escaped name. `-h` never occurs in an escaped name (see above), so a shortened name never equals
 *   an unshortened one; shortened names are told apart by the hash.
 *
 * Distinct (owner, capability) pairs give distinct names (hash collisions aside), the same pair always the same
 * name, and `parseToolName` reverses every unshortened name. A shortened name is resolved by looking it up in
 * the current listing.
 */
export const MAX_TOOL_NAME_LENGTH = 128
const SEPARATOR = MCP_TOOL_SEPARATOR
const HASH_HEX_DIGITS = 16
const KEPT_PREFIX = MAX_TOOL_NAME_LENGTH - 2 - HASH_HEX_DIGITS

const OWNER_SAFE = /^[A-Za-z0-9.]$/
const CAPABILITY_SAFE = /^[A-Za-z0-9_.]$/

/** A `-` that reads as an escape (`-` + two lower-case hex digits) or as the shortening mark (`-h`). */
const LOOKS_ESCAPED = /^(?:[0-9a-f]{2}|h)/

function escapePart(text: string, safe: RegExp): string {
  // Built from the end: whether a `-` stays literal depends on what follows it once escaped.
  let escaped = ''
  for (const char of [...text].reverse()) {
    if (char === '-') escaped = LOOKS_ESCAPED.test(escaped) ? `-2d${escaped}` : `-${escaped}`
    else if (safe.test(char)) escaped = `${char}${escaped}`
    else {
      let bytes = ''
      for (const byte of Buffer.from(char, 'utf8')) bytes += `-${byte.toString(16).padStart(2, '0')}`
      escaped = `${bytes}${escaped}`
    }
  }
  return escaped
}

function unescapePart(escaped: string): string | undefined {
  const bytes: number[] = []
  for (let index = 0; index < escaped.length; index += 1) {
    const char = escaped[index] as string
    const hex = escaped.slice(index + 1, index + 3)
    if (char === '-' && /^[0-9a-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16))
      index += 2
    } else bytes.push(...Buffer.from(char, 'utf8'))
  }
  const text = Buffer.from(bytes).toString('utf8')
  // A byte sequence that is not UTF-8 (a hand-made name) does not round-trip: not one of ours.
  return Buffer.from(text, 'utf8').equals(Buffer.from(bytes)) ? text : undefined
}

/** The MCP tool name of `capability` served by `owner` (an agent id, or an MCP server name). */
export function toolName(owner: string, capability: string): string {
  const full = `${escapePart(owner, OWNER_SAFE)}${SEPARATOR}${escapePart(capability, CAPABILITY_SAFE)}`
  if (full.length <= MAX_TOOL_NAME_LENGTH) return full
  const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_HEX_DIGITS)
  return `${full.slice(0, KEPT_PREFIX)}-h${hash}`
}

/** The owner and capability an unshortened tool name stands for; undefined for any other name. */
export function parseToolName(name: string): { owner: string; capability: string } | undefined {
  if (name.length > MAX_TOOL_NAME_LENGTH || !/^[A-Za-z0-9_.-]+$/.test(name) || /-h/.test(name))
    return undefined
  const at = name.indexOf(SEPARATOR)
  if (at <= 0) return undefined
  const owner = unescapePart(name.slice(0, at))
  const capability = unescapePart(name.slice(at + SEPARATOR.length))
  if (owner === undefined || capability === undefined || capability === '') return undefined
  // Only the canonical spelling is ours (e.g. not an upper-case hex escape).
  return toolName(owner, capability) === name ? { owner, capability } : undefined
}

/**
 * The server and tool of an `mcp`-kind instance's capability (`mcp:{server}__{tool}`, `mcpToolCapability` in
 * the protocol), or undefined when it does not have that shape.
 */
export function upstreamToolOf(capability: string): { server: string; tool: string } | undefined {
  if (!capability.startsWith(MCP_UPSTREAM_CAPABILITY_PREFIX)) return undefined
  const rest = capability.slice(MCP_UPSTREAM_CAPABILITY_PREFIX.length)
  const at = rest.indexOf(SEPARATOR)
  if (at <= 0 || at + SEPARATOR.length >= rest.length) return undefined
  return { server: rest.slice(0, at), tool: rest.slice(at + SEPARATOR.length) }
}
