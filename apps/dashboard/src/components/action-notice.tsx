/** What the last action did (or why it failed), under a page's heading. */
export type Notice = { tone: 'ok' | 'error'; text: string }

/** `testIdPrefix-result` for a success, `testIdPrefix-error` for a failure. */
export function ActionNotice({ notice, testIdPrefix }: { notice: Notice | undefined; testIdPrefix: string }) {
  if (notice === undefined) return null
  const error = notice.tone === 'error'
  return (
    <div
      role={error ? 'alert' : 'status'}
      className={error ? 'banner banner-error' : 'notice'}
      data-testid={error ? `${testIdPrefix}-error` : `${testIdPrefix}-result`}
    >
      {notice.text}
    </div>
  )
}
