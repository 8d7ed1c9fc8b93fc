// Checks of what callers pass in (rejected with `bad_request` before any frame goes out) and of the gateway's
// replies (`invalid_frame`).
import { ChannelName, describeIssues, IdempotencyKey, StreamPosition } from '@parley/protocol'
import { ParleyError } from './errors.js'

export function checkChannel(channel: string): void {
  const parsed = ChannelName.safeParse(channel)
  if (!parsed.success) {
    throw new ParleyError({
      code: 'bad_request',
      message: `invalid channel name ${JSON.stringify(channel)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    })
  }
}

export function checkPosition(position: StreamPosition): StreamPosition {
  const parsed = StreamPosition.safeParse(position)
  if (!parsed.success) {
    throw new ParleyError({
      code: 'bad_request',
      message: `invalid since position: ${describeIssues('subscribe', parsed.error)}`,
    })
  }
  return { offset: parsed.data.offset, epoch: parsed.data.epoch }
}

export function checkIdempotencyKey(key: string): string {
  if (!IdempotencyKey.safeParse(key).success) {
    throw new ParleyError({ code: 'bad_request', message: 'idempotencyKey must be 1-128 characters' })
  }
  return key
}

export function checkData(data: unknown): asserts data is NonNullable<unknown> | null {
  // JSON has no undefined: the field would vanish and the gateway would reject the frame.
  if (data === undefined) throw new ParleyError({ code: 'bad_request', message: 'data is required' })
}

type IssueList = Parameters<typeof describeIssues>[1]

/** The part of a zod schema used here; typed structurally so the client needs no direct zod import. */
interface ResultSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: IssueList }
}

export function parseResult<T>(schema: ResultSchema<T>, result: Record<string, unknown>, type: string): T {
  const parsed = schema.safeParse(result)
  if (parsed.success) return parsed.data
  throw new ParleyError({
    code: 'invalid_frame',
    message: `invalid ${type} reply from the gateway: ${describeIssues(type, parsed.error)}`,
  })
}
