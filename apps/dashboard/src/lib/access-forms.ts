import {
  ADMIN_ROLES,
  ApproveDeviceRequest,
  CreateTokenRequest,
  RegisterAgentKeyRequest,
} from '@parley/protocol/admin'
import type { z } from 'zod'
import { describeIssues } from './search-params'

/**
 * The Access and Pairing forms as request bodies: what the operator typed, turned into the protocol's
 * request schemas, or one message naming each wrong field. Route handlers validate again with the same
 * schemas, so a body the form would refuse is refused there too.
 */

export type AdminRole = (typeof ADMIN_ROLES)[number]
export { ADMIN_ROLES }

export type FormResult<T> = { ok: true; request: T } | { ok: false; message: string }

export function isAdminRole(value: string): value is AdminRole {
  return (ADMIN_ROLES as readonly string[]).includes(value)
}

/** Scopes typed as `publish:alerts.* subscribe:*` or one per line or comma-separated; each once, in order. */
export function parseScopes(text: string): string[] {
  const scopes = text
    .split(/[\s,]+/)
    .map((scope) => scope.trim())
    .filter((scope) => scope !== '')
  return [...new Set(scopes)]
}

/** Token lifetimes offered by the create form, in seconds (`never` = no expiry). */
export const TOKEN_EXPIRY_CHOICES = [
  { value: 'never', label: 'Never', seconds: undefined },
  { value: '1h', label: '1 hour', seconds: 3_600 },
  { value: '1d', label: '1 day', seconds: 86_400 },
  { value: '7d', label: '7 days', seconds: 7 * 86_400 },
  { value: '30d', label: '30 days', seconds: 30 * 86_400 },
  { value: '90d', label: '90 days', seconds: 90 * 86_400 },
  { value: '365d', label: '1 year', seconds: 365 * 86_400 },
] as const

export type TokenExpiryChoice = (typeof TOKEN_EXPIRY_CHOICES)[number]['value']

export interface TokenForm {
  name: string
  role: string
  scopes: string
  expiry: string
}

const TOKEN_HINTS: Record<string, string> = {
  name: 'name: 1 to 100 characters',
  role: `role must be one of ${ADMIN_ROLES.join(', ')}`,
  scopes: 'scopes: up to 100, each 3 to 200 characters (like publish:alerts.*)',
  expiresIn: 'expiry: choose one of the offered lifetimes',
}

/** The create-token form as a `CreateTokenRequest` body. */
export function tokenFormToRequest(form: TokenForm): FormResult<CreateTokenRequest> {
  const choice = TOKEN_EXPIRY_CHOICES.find((candidate) => candidate.value === form.expiry)
  if (choice === undefined) return { ok: false, message: TOKEN_HINTS.expiresIn as string }
  return validated(
    CreateTokenRequest,
    {
      name: form.name.trim(),
      role: form.role,
      scopes: parseScopes(form.scopes),
      ...(choice.seconds === undefined ? {} : { expiresIn: choice.seconds }),
    },
    TOKEN_HINTS,
  )
}

export interface DeviceApprovalForm {
  role: string
  scopes: string
}

/** What the approve form of a device request starts with: the protocol's defaults (`client`, `*:*`). */
export const DEFAULT_DEVICE_APPROVAL: DeviceApprovalForm = { role: 'client', scopes: '*:*' }

/** The approve form of a device request as an `ApproveDeviceRequest` body. */
export function deviceApprovalToRequest(form: DeviceApprovalForm): FormResult<ApproveDeviceRequest> {
  return validated(ApproveDeviceRequest, { role: form.role, scopes: parseScopes(form.scopes) }, TOKEN_HINTS)
}

export interface AgentKeyForm {
  id: string
  publicKey: string
  name: string
  role: string
  scopes: string
}

export const DEFAULT_AGENT_KEY_FORM: AgentKeyForm = {
  id: '',
  publicKey: '',
  name: '',
  role: 'agent',
  scopes: '*:*',
}

const AGENT_KEY_HINTS: Record<string, string> = {
  ...TOKEN_HINTS,
  id: 'id: the agent identity (did:key:…), 1 to 512 characters',
  publicKey: 'public key: 1 to 100 characters',
}

/** The register form of an agent key as a `RegisterAgentKeyRequest` body. */
export function agentKeyFormToRequest(form: AgentKeyForm): FormResult<RegisterAgentKeyRequest> {
  return validated(
    RegisterAgentKeyRequest,
    {
      id: form.id.trim(),
      publicKey: form.publicKey.trim(),
      name: form.name.trim(),
      role: form.role,
      scopes: parseScopes(form.scopes),
    },
    AGENT_KEY_HINTS,
  )
}

export function validated<T>(
  schema: z.ZodType<T>,
  body: unknown,
  hints: Record<string, string>,
): FormResult<T> {
  const parsed = schema.safeParse(body)
  if (parsed.success) return { ok: true, request: parsed.data }
  return { ok: false, message: describeIssues(parsed.error, hints) }
}

/**
 * A request body the `/api/gw` proxy received, parsed with the protocol schema: the browser is ours, but the
 * proxy must not forward to the gateway whatever a caller posts. With `emptyIsObject`, an empty body stands for
 * `{}` (the schema's defaults), as on the gateway.
 */
export async function readJsonBody<T>(
  request: Request,
  schema: z.ZodType<T>,
  emptyIsObject = false,
): Promise<FormResult<T>> {
  let body: unknown
  try {
    const text = await request.text()
    body = emptyIsObject && text.trim() === '' ? {} : JSON.parse(text)
  } catch {
    return { ok: false, message: 'the body must be JSON' }
  }
  const parsed = schema.safeParse(body)
  if (parsed.success) return { ok: true, request: parsed.data }
  return { ok: false, message: describeIssues(parsed.error, {}) }
}
