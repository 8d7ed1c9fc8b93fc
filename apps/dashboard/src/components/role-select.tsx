import { ADMIN_ROLES } from '@/lib/access-forms'

/** A choice among the gateway's roles, for tokens, device approvals and agent keys. */
export function RoleSelect({
  value,
  onChange,
  testId,
  label = 'Role',
}: {
  value: string
  onChange: (value: string) => void
  testId: string
  label?: string
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        {ADMIN_ROLES.map((role) => (
          <option key={role} value={role}>
            {role}
          </option>
        ))}
      </select>
    </label>
  )
}
