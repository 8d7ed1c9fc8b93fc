/** A row of a live list, newest first: an id and an ISO time. */
export type TimedRow = { id: string; time: string }

/**
 * What a paused live list shows: the rows on screen when the operator paused (`snapshot`), plus older rows
 * loaded since ("Load more" appends them below), never the rows that arrived since at the top, which are
 * counted instead (`newCount`, for "N new events"). Rows pushed off the last page by newer ones stay shown:
 * the snapshot keeps them.
 */
export function pausedView<T extends TimedRow>(
  snapshot: readonly T[],
  current: readonly T[],
): { rows: T[]; newCount: number } {
  const shown = new Set(snapshot.map((row) => row.id))
  const newest = snapshot[0]?.time
  const oldest = snapshot.at(-1)?.time
  let newCount = 0
  const older: T[] = []
  for (const row of current) {
    if (shown.has(row.id)) continue
    if (newest === undefined || row.time >= newest) newCount += 1
    else if (oldest !== undefined && row.time <= oldest) older.push(row)
  }
  return { rows: [...snapshot, ...older], newCount }
}
