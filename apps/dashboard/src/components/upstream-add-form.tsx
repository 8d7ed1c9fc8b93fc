'use client'

import { type FormEvent, type ReactNode, useState } from 'react'
import type { FormResult } from '@/lib/access-forms'

/**
 * The shared frame of the "add an upstream" forms (an external A2A agent, an MCP server): the fields the
 * caller renders with the form state, a bearer token in a password field, the submit button and the message
 * naming a wrong field. The token leaves the form after every submit, whatever the answer: it is sent once,
 * kept in no cache and shown nowhere. `testIdPrefix` names `-token`, `-submit` and `-error`.
 */
export function UpstreamAddForm<Form extends { token: string }, Body>({
  label,
  submitLabel,
  empty,
  toRequest,
  onAdd,
  busy,
  testIdPrefix,
  children,
}: {
  label: string
  submitLabel: string
  empty: Form
  toRequest: (form: Form) => FormResult<Body>
  /** Resolves true when the gateway took it: the form then empties. */
  onAdd: (body: Body) => Promise<boolean>
  busy: boolean
  testIdPrefix: string
  children: (form: Form, setForm: (form: Form) => void) => ReactNode
}) {
  const [form, setForm] = useState<Form>(empty)
  const [error, setError] = useState<string | undefined>(undefined)

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const body = toRequest(form)
    if (!body.ok) {
      setError(body.message)
      return
    }
    setError(undefined)
    const added = await onAdd(body.request)
    setForm(added ? empty : { ...form, token: '' })
  }

  return (
    <form className="inline-form" onSubmit={submit} aria-label={label}>
      {children(form, setForm)}
      <label>
        Bearer token (optional)
        <input
          type="password"
          autoComplete="off"
          value={form.token}
          onChange={(e) => setForm({ ...form, token: e.target.value })}
          maxLength={8_192}
          data-testid={`${testIdPrefix}-token`}
        />
      </label>
      <button type="submit" className="button" disabled={busy} data-testid={`${testIdPrefix}-submit`}>
        {submitLabel}
      </button>
      {error === undefined ? null : (
        <div role="alert" className="banner banner-error" data-testid={`${testIdPrefix}-error`}>
          {error}
        </div>
      )}
    </form>
  )
}
