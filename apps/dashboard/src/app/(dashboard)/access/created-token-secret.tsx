'use client'

import type { CreatedToken } from '@parley/protocol/admin'
import { useState } from 'react'

/**
 * The secret of a token just created. It lives in this component's state only (never in the query cache
 * or the URL), so a reload or leaving the page loses it for good, as the gateway keeps only a hash.
 */
export function CreatedTokenSecret({ created, onDismiss }: { created: CreatedToken; onDismiss: () => void }) {
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle')

  async function copySecret() {
    try {
      await navigator.clipboard.writeText(created.token)
      setCopy('copied')
    } catch {
      // No clipboard permission (or an insecure origin): the secret is selectable text all the same.
      setCopy('failed')
    }
  }

  return (
    <div className="secret-panel" role="status" data-testid="token-secret">
      <strong>
        Token <span data-testid="token-secret-name">{created.info.name}</span> created.
      </strong>{' '}
      Copy its secret now: <strong>you will not see it again</strong>. The gateway keeps only a hash of it.
      <code data-testid="token-secret-value">{created.token}</code>
      <div className="row-actions">
        <button
          type="button"
          className="button small"
          onClick={() => void copySecret()}
          data-testid="token-secret-copy"
        >
          {copy === 'copied' ? 'Copied' : 'Copy'}
        </button>
        <button
          type="button"
          className="button secondary small"
          onClick={onDismiss}
          data-testid="token-secret-dismiss"
        >
          I have saved it
        </button>
        {copy === 'failed' ? (
          <span className="muted small">The browser refused the clipboard: select the text and copy it.</span>
        ) : null}
      </div>
    </div>
  )
}
