import type { StatusTone } from '@/lib/presence'

const TONE_CLASS: Record<StatusTone, string> = {
  ok: 'tag tag-ok',
  warn: 'tag tag-warn',
  error: 'tag tag-error',
  neutral: 'tag',
}

/** A short state in a pill (a presence status, a bus state): green when fine, amber when it needs an eye. */
export function Badge({
  tone,
  testId,
  title,
  children,
}: {
  tone: StatusTone
  testId?: string
  title?: string
  children: string
}) {
  return (
    <span className={TONE_CLASS[tone]} data-testid={testId} data-tone={tone} title={title}>
      {children}
    </span>
  )
}
