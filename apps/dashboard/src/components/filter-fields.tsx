/** Fields shared by the filter forms of the list pages (`/deliveries`, `/audit`); an empty field means "any". */

/** A free-text filter, as long as the gateway accepts (200 characters). */
export function TextFilter({
  label,
  value,
  onChange,
  testId,
}: {
  label: string
  value: string
  onChange: (value: string) => void
  testId: string
}) {
  return (
    <label>
      {label}
      <input
        value={value}
        onChange={(e) => onChange(e.target.value)}
        maxLength={200}
        placeholder="any"
        data-testid={testId}
      />
    </label>
  )
}

/** A choice among the protocol's kinds (of delivery, of audit event), or any. */
export function KindFilter({
  kinds,
  value,
  onChange,
  testId,
}: {
  kinds: readonly string[]
  value: string
  onChange: (value: string) => void
  testId: string
}) {
  return (
    <label>
      Kind
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        <option value="">any</option>
        {kinds.map((kind) => (
          <option key={kind} value={kind}>
            {kind}
          </option>
        ))}
      </select>
    </label>
  )
}

/** Apply submits the form; Clear drops every filter. Test ids are `<testIdPrefix>-apply` / `-clear`. */
export function FilterActions({ onClear, testIdPrefix }: { onClear: () => void; testIdPrefix: string }) {
  return (
    <div className="filter-actions">
      <button type="submit" className="button" data-testid={`${testIdPrefix}-apply`}>
        Apply
      </button>
      <button
        type="button"
        className="button secondary"
        onClick={onClear}
        data-testid={`${testIdPrefix}-clear`}
      >
        Clear
      </button>
    </div>
  )
}
