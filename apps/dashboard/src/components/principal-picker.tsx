'use client'

import { useState } from 'react'
import { searchPrincipals } from '@/lib/principal-names'
import { usePrincipalDirectory } from './principal-name'

/**
 * Finds a principal by name (or id) among the tokens and agent keys and hands its id to `onPick`: a policy
 * rule matches principals by id, which nobody should have to type.
 */
export function PrincipalPicker({ onPick, testId }: { onPick: (id: string) => void; testId: string }) {
  const { known } = usePrincipalDirectory()
  const [text, setText] = useState('')
  const found = searchPrincipals(known, text)
  return (
    <div className="principal-picker">
      <label>
        Find a principal by name
        <input
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="token or agent key name"
          data-testid={`${testId}-search`}
        />
      </label>
      {text.trim() === '' ? null : found.length === 0 ? (
        <p className="muted small" data-testid={`${testId}-none`}>
          No token or agent key is named like that.
        </p>
      ) : (
        <ul className="principal-options" aria-label="Matching principals">
          {found.map((principal) => (
            <li key={principal.id}>
              <button
                type="button"
                className="button secondary small"
                title={principal.id}
                onClick={() => {
                  onPick(principal.id)
                  setText('')
                }}
                data-testid={`${testId}-option`}
              >
                {principal.name} <span className="muted mono">{principal.id}</span>
                {principal.revoked ? <span className="muted"> (revoked)</span> : null}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
