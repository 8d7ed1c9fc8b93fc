import { describeIssues, ServerFrame } from '@parley/protocol'

/** A frame the gateway sent, or what is wrong with it (and the request id it answers, when it names one). */
export type ParsedServerText = { frame: ServerFrame } | { problem: string; id: string | undefined }

/** Parses one text message from the gateway against the protocol's server frames. */
export function parseServerText(text: string): ParsedServerText {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { problem: 'the gateway sent text that is not JSON', id: undefined }
  }
  const parsed = ServerFrame.safeParse(value)
  if (parsed.success) return { frame: parsed.data }
  const id = (value as { id?: unknown } | null)?.id
  const type = (value as { type?: unknown } | null)?.type
  return {
    problem: describeIssues(typeof type === 'string' ? type : 'server', parsed.error),
    id: typeof id === 'string' ? id : undefined,
  }
}
