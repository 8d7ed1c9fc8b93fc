'use client'

import { useEffect, useRef, useState } from 'react'
import { tokenFromFragment } from '@/lib/login-fragment'

/**
 * A plain form post to `/api/session` (works before hydration and lets the route answer with a redirect
 * and the cookie). When the page was opened with `#token=…`, the token is moved into the form, removed
 * from the address bar and submitted.
 */
export function LoginForm() {
  const formRef = useRef<HTMLFormElement>(null)
  const inputRef = useRef<HTMLInputElement>(null)
  const [submitting, setSubmitting] = useState(false)

  useEffect(() => {
    const { hash, pathname, search } = window.location
    if (hash === '') return
    const token = tokenFromFragment(hash)
    // Out of the address bar (and so out of history and screenshots) before anything else happens.
    window.history.replaceState(null, '', `${pathname}${search}`)
    if (token === undefined || formRef.current === null || inputRef.current === null) return
    inputRef.current.value = token
    setSubmitting(true)
    formRef.current.requestSubmit()
  }, [])

  // A page restored from the back/forward cache must not stay in the "logging in" state.
  useEffect(() => {
    const reset = () => setSubmitting(false)
    window.addEventListener('pageshow', reset)
    return () => window.removeEventListener('pageshow', reset)
  }, [])

  return (
    <form
      ref={formRef}
      method="post"
      action="/api/session"
      className="login-form"
      onSubmit={() => setSubmitting(true)}
    >
      <label htmlFor="token">Admin token</label>
      <input
        ref={inputRef}
        id="token"
        name="token"
        type="password"
        autoComplete="current-password"
        spellCheck={false}
        required
        data-testid="login-token-input"
      />
      <button type="submit" className="button" data-testid="login-submit">
        {submitting ? 'Logging in…' : 'Log in'}
      </button>
    </form>
  )
}
