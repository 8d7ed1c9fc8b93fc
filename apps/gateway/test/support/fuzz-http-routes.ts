import {
  ApproveCodeRequest,
  ApproveDeviceRequest,
  CreatePolicyRuleRequest,
  CreateTokenRequest,
  PollCloseRequest,
  PollRecvRequest,
  PollSendRequest,
  RegisterAgentKeyRequest,
  SetPolicyDefaultRequest,
  UpdatePolicyRuleRequest,
} from '@parley/protocol'
import type { z } from 'zod'

/** The gateway's HTTP input surface, for the HTTP fuzz suite (test/fuzz/http-bodies.fuzz.test.ts). */

/** Where a real poll session id goes in a seed; each request opens a fresh session for it. */
export const LIVE_SESSION = '$live-session'

export interface BodyRoute {
  method: 'POST' | 'PUT' | 'PATCH'
  path: string
  /** The schema the gateway parses the body with: a body it refuses must get 400 `bad_request`. */
  schema?: z.ZodType
  /** A body the route accepts (its fields are what the mutations start from). */
  seed: Record<string, unknown>
}

/** Every route that reads a JSON body, with the schema it parses it with. */
export const BODY_ROUTES: BodyRoute[] = [
  {
    method: 'POST',
    path: '/api/admin/tokens',
    schema: CreateTokenRequest,
    seed: { name: 'fuzz', role: 'client', scopes: ['publish:fuzz.*'], expiresIn: 60 },
  },
  {
    method: 'POST',
    path: '/api/admin/agent-keys',
    schema: RegisterAgentKeyRequest,
    seed: {
      id: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
      publicKey: 'Lm_M42cB3HkUiODQsXRcweM6TByfzEHGO9ND274JcOY',
      name: 'fuzz key',
      role: 'agent',
      scopes: ['*:*'],
    },
  },
  {
    method: 'POST',
    path: '/api/admin/pairing/approve',
    schema: ApproveCodeRequest,
    seed: { channelType: 'telegram', code: 'ABCD-1234', senderId: '42' },
  },
  {
    method: 'POST',
    path: '/api/admin/devices/dev_unknown/approve',
    schema: ApproveDeviceRequest,
    seed: { role: 'client', scopes: ['*:*'] },
  },
  {
    method: 'POST',
    path: '/api/admin/policies',
    schema: CreatePolicyRuleRequest,
    seed: {
      effect: 'allow',
      actions: ['publish'],
      subject: { kind: 'role', pattern: 'fuzz-*' },
      target: { kind: 'channel', pattern: 'fuzz.*' },
      priority: 1,
    },
  },
  {
    method: 'PATCH',
    path: '/api/admin/policies/pol_unknown',
    schema: UpdatePolicyRuleRequest,
    seed: { description: null, priority: 2 },
  },
  {
    method: 'PUT',
    path: '/api/admin/policies/default',
    schema: SetPolicyDefaultRequest,
    seed: { effect: 'allow' },
  },
  { method: 'POST', path: '/poll/open', seed: {} },
  {
    method: 'POST',
    path: '/poll/send',
    schema: PollSendRequest,
    seed: { session: LIVE_SESSION, frames: ['{"type":"ping","id":"p"}'] },
  },
  {
    method: 'POST',
    path: '/poll/recv',
    schema: PollRecvRequest,
    seed: { session: LIVE_SESSION, ack: 0, waitMs: 0 },
  },
  { method: 'POST', path: '/poll/close', schema: PollCloseRequest, seed: { session: LIVE_SESSION } },
]

/** Routes with ids in the path (none of which exist): hostile ids must get a typed 4xx, never a 5xx. */
export const PATH_ROUTES: Array<{ method: string; path: (id: string) => string }> = [
  { method: 'GET', path: (id) => `/api/admin/dlq/${id}` },
  { method: 'POST', path: (id) => `/api/admin/dlq/${id}/requeue` },
  { method: 'DELETE', path: (id) => `/api/admin/dlq/${id}` },
  { method: 'DELETE', path: (id) => `/api/admin/tokens/${id}` },
  { method: 'DELETE', path: (id) => `/api/admin/agent-keys/${id}` },
  { method: 'POST', path: (id) => `/api/admin/pairing/requests/${id}/approve` },
  { method: 'POST', path: (id) => `/api/admin/pairing/requests/${id}/deny` },
  { method: 'DELETE', path: (id) => `/api/admin/pairing/paired/${id}/${id}` },
  { method: 'POST', path: (id) => `/api/admin/devices/${id}/deny` },
  { method: 'DELETE', path: (id) => `/api/admin/grants/${id}` },
  { method: 'DELETE', path: (id) => `/api/admin/policies/${id}` },
  { method: 'DELETE', path: (id) => `/api/admin/a2a/agents/${id}` },
  { method: 'POST', path: (id) => `/api/admin/a2a/agents/${id}/refresh` },
  { method: 'POST', path: (id) => `/pairing/approve/${id}` },
]

/** Routes that read a query string, with the names of its parameters. */
export const QUERY_ROUTES: Array<{ path: string; names: string[] }> = [
  {
    path: '/api/admin/audit',
    names: ['kind', 'principal', 'channel', 'target', 'correlationId', 'since', 'until', 'cursor', 'limit'],
  },
  { path: '/api/admin/dlq', names: ['recipient', 'channel', 'kind', 'cursor', 'limit'] },
  { path: '/api/admin/conversations', names: ['a', 'b', 'since', 'order', 'cursor', 'limit'] },
  { path: '/api/admin/agents', names: ['capability'] },
  { path: '/api/admin/grants', names: ['all'] },
  { path: '/agents', names: ['capability'] },
]
