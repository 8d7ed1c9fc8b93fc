'use client'

import { AUDIT_KINDS } from '@parley/protocol/admin'
import { useRouter } from 'next/navigation'
import { type FormEvent, useState } from 'react'
import { FilterActions, KindFilter, TextFilter } from '@/components/filter-fields'
import {
  type AuditFilters,
  auditSearchParams,
  isAuditKind,
  isoToUtcInput,
  timeRangeError,
  utcInputToIso,
} from '@/lib/audit-filters'
import { UtcTimeField } from './utc-time-field'

/** Filters are applied by navigating to `/audit?…`: the server prefetches that view. */
export function AuditFilterForm({ filters }: { filters: AuditFilters }) {
  const router = useRouter()
  const [kind, setKind] = useState<string>(filters.kind ?? '')
  const [principal, setPrincipal] = useState(filters.principal ?? '')
  const [channel, setChannel] = useState(filters.channel ?? '')
  const [since, setSince] = useState(isoToUtcInput(filters.since))
  const [until, setUntil] = useState(isoToUtcInput(filters.until))
  const [error, setError] = useState<string | undefined>(undefined)

  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const sinceIso = utcInputToIso(since)
    const untilIso = utcInputToIso(until)
    // Said here, before navigating: a dropped or impossible time filter would silently show other rows.
    const problem =
      since.trim() !== '' && sinceIso === undefined
        ? 'Since is not a UTC date and 24-hour time like 2024-05-01 22:30:00.'
        : until.trim() !== '' && untilIso === undefined
          ? 'Until is not a UTC date and 24-hour time like 2024-05-01 22:30:00.'
          : timeRangeError(sinceIso, untilIso) === undefined
            ? undefined
            : 'Since must be before Until.'
    setError(problem)
    if (problem !== undefined) return
    const next: AuditFilters = {
      principal,
      channel,
      ...(isAuditKind(kind) ? { kind } : {}),
      ...optional('since', sinceIso),
      ...optional('until', untilIso),
    }
    const query = auditSearchParams(next).toString()
    router.push(query === '' ? '/audit' : `/audit?${query}`)
  }

  function clear() {
    setKind('')
    setPrincipal('')
    setChannel('')
    setSince('')
    setUntil('')
    setError(undefined)
    router.push('/audit')
  }

  return (
    <form className="filters" onSubmit={apply} aria-label="Audit filters">
      <KindFilter kinds={AUDIT_KINDS} value={kind} onChange={setKind} testId="audit-filter-kind" />
      <TextFilter
        label="Principal"
        value={principal}
        onChange={setPrincipal}
        testId="audit-filter-principal"
      />
      <TextFilter label="Channel" value={channel} onChange={setChannel} testId="audit-filter-channel" />
      <UtcTimeField
        label="Since"
        value={since}
        onChange={setSince}
        invalid={error !== undefined}
        describedBy={error === undefined ? undefined : 'audit-form-error'}
        shortcuts
        testId="audit-filter-since"
      />
      <UtcTimeField
        label="Until"
        value={until}
        onChange={setUntil}
        invalid={error !== undefined}
        describedBy={error === undefined ? undefined : 'audit-form-error'}
        testId="audit-filter-until"
      />
      {error === undefined ? null : (
        <p
          id="audit-form-error"
          role="alert"
          className="banner banner-warning"
          data-testid="audit-form-error"
        >
          {error}
        </p>
      )}
      <FilterActions onClear={clear} testIdPrefix="audit" />
    </form>
  )
}

function optional<K extends 'since' | 'until'>(
  key: K,
  value: string | undefined,
): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>)
}
