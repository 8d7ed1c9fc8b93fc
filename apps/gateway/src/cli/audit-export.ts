import type { AuditEvent } from '@parley/protocol'
import type { AuditFilter, AuditLog } from '@parley/stores'

export const AUDIT_EXPORT_FORMATS = ['ndjson', 'csv'] as const
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number]

/** The columns of an export, in order: every field of an audit row. */
const COLUMNS = [
  'id',
  'time',
  'kind',
  'outcome',
  'principal',
  'clientId',
  'connectionId',
  'channel',
  'target',
  'size',
  'detail',
  'traceId',
  'correlationId',
  'latencyMs',
] as const satisfies readonly (keyof AuditEvent)[]

const PAGE_SIZE = 500

/**
 * `parley audit export`: every row matching the admin API's audit filters, newest first (the API's order),
 * one page of 500 at a time, as NDJSON (one JSON object per line) or CSV (RFC 4180, with a header).
 * Resolves to the number of rows written.
 */
export async function exportAudit(
  log: Pick<AuditLog, 'query'>,
  filter: Omit<AuditFilter, 'cursor' | 'limit'>,
  format: AuditExportFormat,
  write: (chunk: string) => Promise<void>,
): Promise<number> {
  let rows = 0
  if (format === 'csv') await write(`${COLUMNS.join(',')}\r\n`)
  let cursor: string | undefined
  do {
    const page = await log.query({ ...filter, limit: PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) })
    if (page.events.length > 0) {
      const lines = page.events.map((event) =>
        format === 'ndjson' ? `${JSON.stringify(event)}\n` : `${csvRow(event)}\r\n`,
      )
      await write(lines.join(''))
      rows += page.events.length
    }
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  return rows
}

function csvRow(event: AuditEvent): string {
  return COLUMNS.map((column) => csvCell(event[column])).join(',')
}

/**
 * Quoted when it holds a comma, quote or line break. Text starting with `=`, `+`, `-`, `@`, tab or CR gets a
 * leading `'`, so a spreadsheet opening the file does not run it as a formula (principals and details come
 * from clients).
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'number') return String(value)
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}
