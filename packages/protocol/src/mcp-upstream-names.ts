/**
 * How a tool of an upstream MCP server becomes a Parley capability (`mcp:{server}__{tool}`) and an MCP tool name on
 * `/mcp` (`{server}__{tool}`). One definition, used by the gateway (when it registers the tools) and by the SDK
 * (`AgentCaller.callTool`), so both compute the same name.
 *
 * The scheme, stable and collision-free:
 * - Letters, digits, `_` and `-` are kept as they are.
 * - Every other character (`.` included) becomes `.` followed by the two lower-case hex digits of each of its
 *   UTF-8 bytes: `files.read` → `files.2eread`, `a b` → `a.20b`. A `.` is always followed by two hex digits, so
 *   two different tool names never escape to the same text.
 * - A capability is at most 100 characters: when `mcp:{server}__` and the escaped tool do not fit, the escaped
 *   tool is cut and ends with `.h` and 16 hex digits of the FNV-1a 64-bit hash of the whole tool name. `.h`
 *   never occurs in an escaped name, so a shortened name never equals an unshortened one.
 * - The server name (`McpServerName`: lower-case letters, digits and `-`) holds no `_`: the first `__` of a
 *   capability ends the server name, whatever the tool name holds.
 *
 * The escaped tool uses only letters, digits, `_`, `-` and `.`, the characters MCP allows in tool names.
 */

export const MCP_UPSTREAM_CAPABILITY_PREFIX = 'mcp:'
/** Between the server name and the tool name. */
export const MCP_TOOL_SEPARATOR = '__'
const MAX_CAPABILITY_LENGTH = 100
const HASH_MARKER = '.h'
const HASH_DIGITS = 16

const KEPT = /^[A-Za-z0-9_-]$/
const encoder = new TextEncoder()

function escapeCharacter(character: string): string {
  if (KEPT.test(character)) return character
  let escaped = ''
  for (const byte of encoder.encode(character)) escaped += `.${byte.toString(16).padStart(2, '0')}`
  return escaped
}

const FNV_OFFSET = 0xcbf29ce484222325n
const FNV_PRIME = 0x100000001b3n
const MASK_64 = (1n << 64n) - 1n

/** FNV-1a, 64 bits, over the UTF-8 bytes: 16 hex digits. */
function fnv1a64(text: string): string {
  let hash = FNV_OFFSET
  for (const byte of encoder.encode(text)) {
    hash ^= BigInt(byte)
    hash = (hash * FNV_PRIME) & MASK_64
  }
  return hash.toString(16).padStart(HASH_DIGITS, '0')
}

/** The tool name as it appears after `{server}__`, fitting in `room` characters. */
function escapeToolName(tool: string, room: number): string {
  const pieces = [...tool].map(escapeCharacter)
  const escaped = pieces.join('')
  if (escaped.length <= room) return escaped
  const keep = room - HASH_MARKER.length - HASH_DIGITS
  // Cut between escape sequences, never inside one.
  let cut = ''
  for (const piece of pieces) {
    if (cut.length + piece.length > keep) break
    cut += piece
  }
  return `${cut}${HASH_MARKER}${fnv1a64(tool)}`
}

/** The MCP tool name `/mcp` lists for a tool of an upstream server: `{server}__{escaped tool}`. */
export function mcpUpstreamToolName(server: string, tool: string): string {
  const room =
    MAX_CAPABILITY_LENGTH - MCP_UPSTREAM_CAPABILITY_PREFIX.length - server.length - MCP_TOOL_SEPARATOR.length
  return `${server}${MCP_TOOL_SEPARATOR}${escapeToolName(tool, room)}`
}

/** The Parley capability of a tool of an upstream server: `mcp:{server}__{escaped tool}` (at most 100 characters). */
export function mcpToolCapability(server: string, tool: string): string {
  return `${MCP_UPSTREAM_CAPABILITY_PREFIX}${mcpUpstreamToolName(server, tool)}`
}

/** The server of an upstream tool capability (`mcp:{server}__…`), or undefined for any other capability. */
export function mcpServerOfCapability(capability: string): string | undefined {
  if (!capability.startsWith(MCP_UPSTREAM_CAPABILITY_PREFIX)) return undefined
  const rest = capability.slice(MCP_UPSTREAM_CAPABILITY_PREFIX.length)
  const separator = rest.indexOf(MCP_TOOL_SEPARATOR)
  return separator > 0 ? rest.slice(0, separator) : undefined
}
