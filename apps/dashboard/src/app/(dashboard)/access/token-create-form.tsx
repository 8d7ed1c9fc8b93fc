'use client'

import type { CreateTokenRequest } from '@parley/protocol/admin'
import { type FormEvent, useState } from 'react'
import { RoleSelect } from '@/components/role-select'
import { type FormResult, TOKEN_EXPIRY_CHOICES, type TokenForm, tokenFormToRequest } from '@/lib/access-forms'

const EMPTY_FORM: TokenForm = { name: '', role: 'client', scopes: '', expiry: 'never' }

/** Name, role, scopes and lifetime of a new token; the form empties once the gateway created it. */
export function TokenCreateForm({
  busy,
  onCreate,
}: {
  busy: boolean
  /** Resolves true when the token was created. */
  onCreate: (request: CreateTokenRequest) => Promise<boolean>
}) {
  const [form, setForm] = useState<TokenForm>(EMPTY_FORM)
  const [error, setError] = useState<string | undefined>(undefined)

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const body: FormResult<CreateTokenRequest> = tokenFormToRequest(form)
    if (!body.ok) {
      setError(body.message)
      return
    }
    setError(undefined)
    if (await onCreate(body.request)) setForm(EMPTY_FORM)
  }

  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create a token">
      <label>
        Name
        <input
          value={form.name}
          onChange={(e) => setForm({ ...form, name: e.target.value })}
          maxLength={100}
          required
          placeholder="billing agent"
          data-testid="token-create-name"
        />
      </label>
      <RoleSelect
        value={form.role}
        onChange={(role) => setForm({ ...form, role })}
        testId="token-create-role"
      />
      <label className="wide">
        Scopes (space-separated)
        <input
          value={form.scopes}
          onChange={(e) => setForm({ ...form, scopes: e.target.value })}
          placeholder="publish:alerts.* subscribe:* send:*"
          data-testid="token-create-scopes"
        />
      </label>
      <label>
        Expires
        <select
          value={form.expiry}
          onChange={(e) => setForm({ ...form, expiry: e.target.value })}
          data-testid="token-create-expiry"
        >
          {TOKEN_EXPIRY_CHOICES.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="button" disabled={busy} data-testid="token-create-submit">
        Create token
      </button>
      {error === undefined ? null : (
        <div role="alert" className="banner banner-error" data-testid="token-create-error">
          {error}
        </div>
      )}
    </form>
  )
}
