'use client'

import { AUDIT_KINDS } from '@parley/protocol/admin'
import { useRouter } from 'next/navigation'
import { type FormEvent, useState } from 'react'
import { FilterActions, KindFilter, TextFilter } from '@/components/filter-fields'
import {
  type AuditFilters,
  auditSearchParams,
  datetimeLocalToIso,
  isAuditKind,
  isoToDatetimeLocal,
  timeRangeError,
} from '@/lib/audit-filters'

/** Filters are applied by navigating to `/audit?…`: the server prefetches that view. */
export function AuditFilterForm({ filters }: { filters: AuditFilters }) {
  const router = useRouter()
  const [kind, setKind] = useState<string>(filters.kind ?? '')
  const [principal, setPrincipal] = useState(filters.principal ?? '')
  const [channel, setChannel] = useState(filters.channel ?? '')
  const [since, setSince] = useState(isoToDatetimeLocal(filters.since))
  const [until, setUntil] = useState(isoToDatetimeLocal(filters.until))
  const [error, setError] = useState<string | undefined>(undefined)

  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const sinceIso = datetimeLocalToIso(since)
    const untilIso = datetimeLocalToIso(until)
    // Said here, before navigating: a dropped or impossible time filter would silently show other rows.
    const problem =
      since.trim() !== '' && sinceIso === undefined
        ? 'Since is not a valid date and time.'
        : until.trim() !== '' && untilIso === undefined
          ? 'Until is not a valid date and time.'
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
      <label>
        Since (UTC)
        <input
          type="datetime-local"
          value={since}
          onChange={(e) => setSince(e.target.value)}
          aria-invalid={error === undefined ? undefined : true}
          aria-describedby={error === undefined ? undefined : 'audit-form-error'}
          data-testid="audit-filter-since"
        />
      </label>
      <label>
        Until (UTC)
        <input
          type="datetime-local"
          value={until}
          onChange={(e) => setUntil(e.target.value)}
          aria-invalid={error === undefined ? undefined : true}
          aria-describedby={error === undefined ? undefined : 'audit-form-error'}
          data-testid="audit-filter-until"
        />
      </label>
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
