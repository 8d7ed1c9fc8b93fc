import { Scope } from '@parley/protocol'
import type { z } from 'zod'
import { GatewayError } from '../errors.js'
import { findNulCharacter } from '../http/reject-nul.js'

/** Parses a JSON body with its schema; every problem is named in the `bad_request` message. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
    throw new GatewayError('bad_request', `invalid ${what}: ${problems.join('; ')}`)
  }
  // Postgres text refuses NUL characters (a 500 deep in a store otherwise): refused here, naming the field.
  const withNul = findNulCharacter(parsed.data)
  if (withNul !== undefined) {
    throw new GatewayError('bad_request', `invalid ${what}: ${withNul}: must not contain NUL characters`)
  }
  return parsed.data
}

/** Refuses scopes that are not `action:pattern`. */
export function checkScopes(scopes: readonly string[]): void {
  const badScopes = scopes.filter((scope) => !Scope.safeParse(scope).success)
  if (badScopes.length > 0) {
    throw new GatewayError(
      'bad_request',
      `invalid scopes ${badScopes.map((scope) => JSON.stringify(scope)).join(', ')}: scopes look like publish:alerts.*, subscribe:*, send:agent-*`,
    )
  }
}
