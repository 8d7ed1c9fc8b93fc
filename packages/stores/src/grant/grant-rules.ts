import { randomBytes } from 'node:crypto'
import { InvalidGrantError } from '../errors.js'
import type { CreateGrantInput, Grant, GrantParty } from './types.js'

export const MAX_GRANT_TEXT_LENGTH = 200
export const MAX_GRANT_REASON_LENGTH = 1_000

export function newGrantId(): string {
  return `grt_${randomBytes(12).toString('base64url')}`
}

function checkText(field: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidGrantError(field, `${field} must be a non-empty string.`)
  }
  if (value.length > maxLength) {
    throw new InvalidGrantError(field, `${field} is longer than ${maxLength} characters.`)
  }
  // Postgres text cannot hold NUL; refusing it here keeps memory and Postgres stores alike.
  if (value.includes('\u0000'))
    throw new InvalidGrantError(field, `${field} must not contain NUL characters.`)
  return value
}

function checkParty(field: 'from' | 'to', party: unknown): GrantParty {
  if (typeof party !== 'object' || party === null) {
    throw new InvalidGrantError(field, `${field} must be an object { principal, clientId, agentId? }.`)
  }
  const { principal, clientId, agentId } = party as Record<string, unknown>
  const checked: GrantParty = {
    principal: checkText(`${field}.principal`, principal, MAX_GRANT_TEXT_LENGTH),
    clientId: checkText(`${field}.clientId`, clientId, MAX_GRANT_TEXT_LENGTH),
  }
  if (agentId !== undefined) checked.agentId = checkText(`${field}.agentId`, agentId, MAX_GRANT_TEXT_LENGTH)
  return checked
}

/** A validated grant, or `InvalidGrantError`. */
export function newGrant(input: CreateGrantInput, now: number): Grant {
  const reason =
    input.reason === undefined || input.reason === null
      ? null
      : checkText('reason', input.reason, MAX_GRANT_REASON_LENGTH)
  return {
    id: newGrantId(),
    from: checkParty('from', input.from),
    to: checkParty('to', input.to),
    reason,
    createdAt: now,
    revokedAt: null,
    revokedBy: null,
  }
}

export function cloneGrant(grant: Grant): Grant {
  return { ...grant, from: { ...grant.from }, to: { ...grant.to } }
}

/** Newest first, then id descending: one order for both stores. */
export function compareGrantsNewestFirst(a: Grant, b: Grant): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0
}
