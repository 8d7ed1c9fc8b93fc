'use client'

import type { RegisterAgentKeyRequest } from '@parley/protocol/admin'
import { type FormEvent, useState } from 'react'
import { RoleSelect } from '@/components/role-select'
import { type AgentKeyForm, agentKeyFormToRequest, DEFAULT_AGENT_KEY_FORM } from '@/lib/access-forms'

/** Registers an agent's Ed25519 public key under its identity, with a role and scopes. */
export function AgentKeyRegisterForm({
  busy,
  onRegister,
}: {
  busy: boolean
  /** Resolves true when the key was registered. */
  onRegister: (request: RegisterAgentKeyRequest) => Promise<boolean>
}) {
  const [form, setForm] = useState<AgentKeyForm>(DEFAULT_AGENT_KEY_FORM)
  const [error, setError] = useState<string | undefined>(undefined)

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const body = agentKeyFormToRequest(form)
    if (!body.ok) {
      setError(body.message)
      return
    }
    setError(undefined)
    if (await onRegister(body.request)) setForm(DEFAULT_AGENT_KEY_FORM)
  }

  return (
    <form className="inline-form" onSubmit={submit} aria-label="Register an agent key">
      <label className="wide">
        Identity
        <input
          value={form.id}
          onChange={(e) => setForm({ ...form, id: e.target.value })}
          maxLength={512}
          required
          placeholder="did:key:z6Mk…"
          data-testid="agent-key-id"
        />
      </label>
      <label className="wide">
        Public key
        <input
          value={form.publicKey}
          onChange={(e) => setForm({ ...form, publicKey: e.target.value })}
          maxLength={100}
          required
          placeholder="base64url Ed25519 public key"
          data-testid="agent-key-public-key"
        />
      </label>
      <label>
        Name
        <input
          value={form.name}
          onChange={(e) => setForm({ ...form, name: e.target.value })}
          maxLength={100}
          required
          placeholder="planner"
          data-testid="agent-key-name"
        />
      </label>
      <RoleSelect value={form.role} onChange={(role) => setForm({ ...form, role })} testId="agent-key-role" />
      <label>
        Scopes
        <input
          value={form.scopes}
          onChange={(e) => setForm({ ...form, scopes: e.target.value })}
          placeholder="*:*"
          data-testid="agent-key-scopes"
        />
      </label>
      <button type="submit" className="button" disabled={busy} data-testid="agent-key-submit">
        Register key
      </button>
      {error === undefined ? null : (
        <div role="alert" className="banner banner-error" data-testid="agent-key-error">
          {error}
        </div>
      )}
    </form>
  )
}
