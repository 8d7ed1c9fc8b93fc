/** What a scope can grant: the three routed actions. `*` in a scope's action part grants all of them. */
export type ScopeAction = 'publish' | 'subscribe' | 'send'

/** Everything: the scopes of the shared token and of anonymous clients. */
export const ALL_SCOPES: readonly string[] = ['*:*']

const compiled = new Map<string, RegExp>()
/** Compiled patterns are cached; the cache is bounded because scopes come from tokens an admin creates. */
const MAX_COMPILED = 10_000

function patternRegExp(pattern: string): RegExp {
  let regExp = compiled.get(pattern)
  if (regExp === undefined) {
    const source = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')
    regExp = new RegExp(`^${source}$`, 's')
    if (compiled.size >= MAX_COMPILED) compiled.clear()
    compiled.set(pattern, regExp)
  }
  return regExp
}

/**
 * Whether `scopes` allow `action` on `target` (a channel name or a recipient client id). A scope is
 * `<action>:<pattern>`; `*` in the pattern matches any run of characters, and action `*` matches any action.
 */
export function scopeAllows(scopes: readonly string[], action: ScopeAction, target: string): boolean {
  return scopeMatches(scopes, action, target)
}

/** Whether `scopes` allow MCP use `what` (`mcp:list`, `mcp:call`; `mcp:*` and `*:*` grant both; docs/mcp.md). */
export function mcpScopeAllows(scopes: readonly string[], what: 'list' | 'call'): boolean {
  return scopeMatches(scopes, 'mcp', what)
}

function scopeMatches(scopes: readonly string[], action: string, target: string): boolean {
  for (const scope of scopes) {
    const colon = scope.indexOf(':')
    if (colon === -1) continue
    const scopeAction = scope.slice(0, colon)
    if (scopeAction !== action && scopeAction !== '*') continue
    if (patternRegExp(scope.slice(colon + 1)).test(target)) return true
  }
  return false
}

/** Broadcast reaches every client, so it needs publish rights on every channel: a `publish:*` (or `*:*`) scope. */
export function scopeAllowsBroadcast(scopes: readonly string[]): boolean {
  // Only patterns made solely of `*` match the literal target `*`.
  return scopeAllows(scopes, 'publish', '*')
}
