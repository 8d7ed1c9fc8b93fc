'use client'

/** Last resort: gateway failures are rendered as banners, so reaching this is a dashboard bug. */
export default function DashboardError({
  error,
  reset,
}: {
  error: Error & { digest?: string }
  reset: () => void
}) {
  return (
    <section>
      <h1>Something went wrong</h1>
      <div role="alert" className="banner banner-error">
        The dashboard failed to render this page
        {error.digest === undefined ? '' : ` (reference ${error.digest})`}.
      </div>
      <button type="button" className="button" onClick={reset}>
        Try again
      </button>
    </section>
  )
}
