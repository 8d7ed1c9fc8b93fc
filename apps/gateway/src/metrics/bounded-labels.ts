/** The label value every name past the bound is counted under. */
export const OTHER_LABEL = '_other'

/**
 * Keeps a label's value set bounded: the first `max` distinct values are used as they are, later ones are
 * counted as `_other`. Agent ids, capabilities and rule ids come from agents and operators, so their number is
 * not ours to bound; a scrape's size must be.
 */
export function boundedLabel(max: number): (value: string) => string {
  const seen = new Set<string>()
  return (value) => {
    if (seen.has(value)) return value
    if (seen.size >= max) return OTHER_LABEL
    seen.add(value)
    return value
  }
}
