/**
 * The foot of a paged list: "Load more" while the gateway has another page (`<testId>`), else `endText`
 * once anything is shown; `summary` says what is on screen.
 */
export function LoadMorePager({
  hasNextPage,
  isFetchingNextPage,
  onLoadMore,
  testId,
  shown,
  endText,
  summary,
  label = 'Load more',
}: {
  hasNextPage: boolean
  isFetchingNextPage: boolean
  onLoadMore: () => void
  testId: string
  /** How many rows are shown. */
  shown: number
  endText: string
  summary: string
  /** The button's text (`Load older` where pages go back in time). */
  label?: string
}) {
  return (
    <div className="pager">
      {hasNextPage ? (
        <button
          type="button"
          className="button secondary"
          data-testid={testId}
          disabled={isFetchingNextPage}
          onClick={onLoadMore}
        >
          {isFetchingNextPage ? 'Loading…' : label}
        </button>
      ) : (
        <span className="muted small">{shown > 0 ? endText : ''}</span>
      )}
      <span className="muted small">{summary}</span>
    </div>
  )
}
