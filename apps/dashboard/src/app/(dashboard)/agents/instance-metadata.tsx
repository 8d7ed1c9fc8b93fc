import { metadataEntries } from '@/lib/agents'

/** The metadata an instance registered (`agent_register`), one `key value` per line, shown as text. */
export function InstanceMetadata({ metadata }: { metadata: Record<string, unknown> }) {
  const entries = metadataEntries(metadata)
  if (entries.length === 0) return <span className="muted">none</span>
  return (
    <dl className="facts metadata-facts" data-testid="instance-metadata">
      {entries.map(({ key, full, shown }) => (
        <div key={key} className="metadata-entry" data-testid="instance-metadata-entry" data-key={key}>
          <dt className="mono">{key}</dt>
          <dd className="mono" title={full}>
            {shown}
          </dd>
        </div>
      ))}
    </dl>
  )
}
