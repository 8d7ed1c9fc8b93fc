'use client'

import { DELIVERY_KINDS } from '@parley/protocol/admin'
import { useRouter } from 'next/navigation'
import { type FormEvent, useState } from 'react'
import { type DeadLetterFilters, deadLetterSearchParams, isDeliveryKind } from '../../../lib/dlq-filters'

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
      <label>
        Recipient
        <input
          value={recipient}
          onChange={(e) => setRecipient(e.target.value)}
          maxLength={200}
          placeholder="any"
          data-testid="dlq-filter-recipient"
        />
      </label>
      <label>
        Channel
        <input
          value={channel}
          onChange={(e) => setChannel(e.target.value)}
          maxLength={200}
          placeholder="any"
          data-testid="dlq-filter-channel"
        />
      </label>
      <label>
        Kind
        <select value={kind} onChange={(e) => setKind(e.target.value)} data-testid="dlq-filter-kind">
          <option value="">any</option>
          {DELIVERY_KINDS.map((deliveryKind) => (
            <option key={deliveryKind} value={deliveryKind}>
              {deliveryKind}
            </option>
          ))}
        </select>
      </label>
      <div className="filter-actions">
        <button type="submit" className="button" data-testid="dlq-apply">
          Apply
        </button>
        <button type="button" className="button secondary" onClick={clear} data-testid="dlq-clear">
          Clear
        </button>
      </div>
    </form>
  )
}
