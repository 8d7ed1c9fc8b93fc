'use client'

import { DELIVERY_KINDS } from '@parley/protocol/admin'
import { useRouter } from 'next/navigation'
import { type FormEvent, useState } from 'react'
import { FilterActions, KindFilter, TextFilter } from '@/components/filter-fields'
import { type DeadLetterFilters, deadLetterSearchParams, isDeliveryKind } from '@/lib/dlq-filters'

/** Filters are applied by navigating to `/deliveries?…`: the server prefetches that view. */
export function DeadLetterFilterForm({ filters }: { filters: DeadLetterFilters }) {
  const router = useRouter()
  const [recipient, setRecipient] = useState(filters.recipient ?? '')
  const [channel, setChannel] = useState(filters.channel ?? '')
  const [kind, setKind] = useState<string>(filters.kind ?? '')

  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const query = deadLetterSearchParams({
      recipient,
      channel,
      ...(isDeliveryKind(kind) ? { kind } : {}),
    }).toString()
    router.push(query === '' ? '/deliveries' : `/deliveries?${query}`)
  }

  function clear() {
    setRecipient('')
    setChannel('')
    setKind('')
    router.push('/deliveries')
  }

  return (
    <form className="filters" onSubmit={apply} aria-label="Dead-letter filters">
      <TextFilter label="Recipient" value={recipient} onChange={setRecipient} testId="dlq-filter-recipient" />
      <TextFilter label="Channel" value={channel} onChange={setChannel} testId="dlq-filter-channel" />
      <KindFilter kinds={DELIVERY_KINDS} value={kind} onChange={setKind} testId="dlq-filter-kind" />
      <FilterActions onClear={clear} testIdPrefix="dlq" />
    </form>
  )
}
