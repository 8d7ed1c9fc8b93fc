import { CreateTokenRequest } from '@parley/protocol/admin'
import { describe, expect, it } from 'vitest'
import {
  agentKeyFormToRequest,
  DEFAULT_AGENT_KEY_FORM,
  DEFAULT_DEVICE_APPROVAL,
  deviceApprovalToRequest,
  parseScopes,
  readJsonBody,
  tokenFormToRequest,
} from './access-forms'

describe('parseScopes', () => {
  it('splits on spaces, new lines and commas, keeping each scope once in order', () => {
    expect(parseScopes(' publish:alerts.*, subscribe:*\nsend:agent-*  publish:alerts.* ')).toEqual([
      'publish:alerts.*',
      'subscribe:*',
      'send:agent-*',
    ])
    expect(parseScopes('   ')).toEqual([])
  })
})

describe('tokenFormToRequest', () => {
  it('builds a CreateTokenRequest with a trimmed name, parsed scopes and the lifetime in seconds', () => {
    expect(
      tokenFormToRequest({
        name: '  billing bot ',
        role: 'agent',
        scopes: 'publish:billing.* send:*',
        expiry: '7d',
      }),
    ).toEqual({
      ok: true,
      request: {
        name: 'billing bot',
        role: 'agent',
        scopes: ['publish:billing.*', 'send:*'],
        expiresIn: 604_800,
      },
    })
  })

  it('sends no expiresIn for a token that never expires, and no scopes when none were typed', () => {
    const result = tokenFormToRequest({ name: 'ops', role: 'connector', scopes: '', expiry: 'never' })
    expect(result).toEqual({ ok: true, request: { name: 'ops', role: 'connector', scopes: [] } })
    expect(result.ok && 'expiresIn' in result.request).toBe(false)
  })

  it('names each wrong field: an empty name, an unknown role, a too-short scope, an unknown lifetime', () => {
    expect(tokenFormToRequest({ name: ' ', role: 'client', scopes: '', expiry: 'never' })).toEqual({
      ok: false,
      message: 'name: 1 to 100 characters',
    })
    const wrong = tokenFormToRequest({ name: 'x', role: 'root', scopes: 'ab', expiry: 'never' })
    expect(wrong.ok).toBe(false)
    expect(!wrong.ok && wrong.message).toContain('role must be one of admin, agent, client, connector')
    expect(!wrong.ok && wrong.message).toContain('scopes:')
    expect(tokenFormToRequest({ name: 'x', role: 'client', scopes: '', expiry: '2w' })).toMatchObject({
      ok: false,
    })
  })
})

describe('deviceApprovalToRequest', () => {
  it('approves as client with every scope by default, as the protocol does', () => {
    expect(deviceApprovalToRequest(DEFAULT_DEVICE_APPROVAL)).toEqual({
      ok: true,
      request: { role: 'client', scopes: ['*:*'] },
    })
  })

  it('carries the chosen role and scopes, and refuses an unknown role', () => {
    expect(
      deviceApprovalToRequest({ role: 'agent', scopes: 'subscribe:kitchen.* publish:kitchen.*' }),
    ).toEqual({
      ok: true,
      request: { role: 'agent', scopes: ['subscribe:kitchen.*', 'publish:kitchen.*'] },
    })
    expect(deviceApprovalToRequest({ role: 'owner', scopes: '*:*' })).toMatchObject({ ok: false })
  })
})

describe('agentKeyFormToRequest', () => {
  it('builds a RegisterAgentKeyRequest with trimmed fields, role agent and every scope by default', () => {
    expect(
      agentKeyFormToRequest({
        ...DEFAULT_AGENT_KEY_FORM,
        id: ' did:key:z6MkTest ',
        publicKey: ' AbC-_0 ',
        name: ' planner ',
      }),
    ).toEqual({
      ok: true,
      request: {
        id: 'did:key:z6MkTest',
        publicKey: 'AbC-_0',
        name: 'planner',
        role: 'agent',
        scopes: ['*:*'],
      },
    })
  })

  it('names the missing identity and public key', () => {
    const result = agentKeyFormToRequest({ ...DEFAULT_AGENT_KEY_FORM, name: 'planner' })
    expect(result.ok).toBe(false)
    expect(!result.ok && result.message).toContain('id: the agent identity')
    expect(!result.ok && result.message).toContain('public key: 1 to 100 characters')
  })
})

describe('readJsonBody', () => {
  it('parses a JSON body with the protocol schema, applying its defaults', async () => {
    const request = new Request('http://x/', {
      method: 'POST',
      body: JSON.stringify({ name: 'a', role: 'client' }),
    })
    expect(await readJsonBody(request, CreateTokenRequest)).toEqual({
      ok: true,
      request: { name: 'a', role: 'client', scopes: [] },
    })
  })

  it('refuses a body that is not JSON, or does not match, saying what was wrong', async () => {
    const notJson = new Request('http://x/', { method: 'POST', body: '{name' })
    expect(await readJsonBody(notJson, CreateTokenRequest)).toEqual({
      ok: false,
      message: 'the body must be JSON',
    })
    const wrongRole = new Request('http://x/', {
      method: 'POST',
      body: JSON.stringify({ name: 'a', role: 'root' }),
    })
    const result = await readJsonBody(wrongRole, CreateTokenRequest)
    expect(result.ok).toBe(false)
    expect(!result.ok && result.message).toMatch(/^role: /)
  })
})
