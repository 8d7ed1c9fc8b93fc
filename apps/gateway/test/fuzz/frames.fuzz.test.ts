import {
  CLIENT_FRAME_TYPES,
  CLOSE_CODES,
  ClientFrame,
  closeReasonOf,
  ERROR_CODES,
  Health,
  HttpError,
  parseClientFrame,
} from '@parley/protocol'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDatabaseGateway } from '../support/database-gateway.js'
import type { TransportName } from '../support/frame-client.js'
import {
  FuzzConnection,
  type PollingFuzzConnection,
  type ProbeWindow,
  type WebSocketFuzzConnection,
} from '../support/fuzz-connection.js'
import { fuzzParameters, fuzzTimeoutMs } from '../support/fuzz-settings.js'
import {
  EXTRA_SAMPLE_FRAMES,
  fuzzText,
  garbageText,
  mutatedFrameText,
  mutatedObject,
  SAMPLE_FRAMES,
  safeStringify,
  sampleFrameText,
} from '../support/fuzz-values.js'
import { expectStillServing, type ProcessWatch, watchProcess } from '../support/fuzz-watch.js'
import type { TestGateway } from '../support/test-gateway.js'

const MAX_PAYLOAD = 64 * 1024
const HELLO = { type: 'hello', id: 'fuzz-hello', protocol: { min: 1, max: 1 } }
/** The fuzzing connection registers as the agent the sample frames target, so requests and streams reach it. */
const REGISTER = {
  type: 'agent_register',
  id: 'fuzz-register',
  agentId: 'fuzz-agent',
  capabilities: ['echo'],
}

// Cases per property in `pnpm test` (`FUZZ_RUNS` overrides them all; scripts/fuzz.sh sets 20000).
const GARBAGE_RUNS = 80
const MUTATED_RUNS = 250
const SEQUENCE_RUNS = 30
const BYTES_RUNS = 50
const BATCH_RUNS = 40
const FOLLOW_UP_RUNS = 30
const FOLLOW_UP_TYPES = [
  'respond',
  'stream_chunk',
  'stream_credit',
  'stream_end',
  'stream_error',
  'stream_abort',
] as const

describe('fuzz seeds', () => {
  it('has one valid sample frame of every client frame type', () => {
    expect(Object.keys(SAMPLE_FRAMES).sort()).toEqual([...CLIENT_FRAME_TYPES].sort())
    for (const frame of [...Object.values(SAMPLE_FRAMES), ...EXTRA_SAMPLE_FRAMES]) {
      expect(ClientFrame.safeParse(frame).success, JSON.stringify(frame)).toBe(true)
    }
  })
})

/** What the protocol says the gateway answers to one text frame, when it says anything definite. */
type Expected =
  | { kind: 'error'; code: string; id: string | undefined }
  | { kind: 'close'; code: number }
  | { kind: 'http'; status: number; code: string }
  | { kind: 'any' }

/**
 * A poll session id is about 40 characters; the generated sizes stay far from the limits, so the estimate of
 * the `/poll/send` body never decides a case.
 */
const SESSION_ESTIMATE = 'x'.repeat(40)

function expectedAnswer(text: string, transport: TransportName): Expected {
  const size = Buffer.byteLength(text)
  if (transport === 'websocket' && size > 4 * MAX_PAYLOAD) {
    return { kind: 'close', code: CLOSE_CODES.message_too_big.code }
  }
  if (transport === 'polling') {
    const body = JSON.stringify({ session: SESSION_ESTIMATE, frames: [text] })
    if (Buffer.byteLength(body) > 4 * MAX_PAYLOAD)
      return { kind: 'http', status: 413, code: 'payload_too_large' }
  }
  if (size > MAX_PAYLOAD) return { kind: 'error', code: 'payload_too_large', id: undefined }
  const parsed = parseClientFrame(text)
  if (parsed.ok) return { kind: 'any' }
  return { kind: 'error', code: parsed.error.code, id: parsed.id }
}

/** Every frame is typed, no error is `internal`, and a close uses a code of the close-code table. */
function checkTyped(window: ProbeWindow): void {
  expect(window.violations).toEqual([])
  for (const frame of window.frames) {
    const { type, code } = frame as { type?: unknown; code?: unknown }
    if (type !== 'error') continue
    expect(Object.keys(ERROR_CODES), `error code of ${JSON.stringify(frame)}`).toContain(code)
    expect(code, `an untyped failure: ${JSON.stringify(frame)}`).not.toBe('internal')
  }
  for (const answer of window.sendAnswers) {
    expect(answer.status, JSON.stringify(answer)).toBeLessThan(500)
    expect(HttpError.safeParse(answer.body).success, JSON.stringify(answer)).toBe(true)
  }
  if (window.closed !== undefined) {
    const reason = closeReasonOf(window.closed.code)
    expect(reason, `close code ${JSON.stringify(window.closed)}`).toBeDefined()
    expect(reason, `close code ${JSON.stringify(window.closed)}`).not.toBe('internal_error')
  }
}

/** Waits for a frame matching `expected` (asynchronous answers come after a store lookup), then probes. */
async function probeUntil(
  connection: FuzzConnection,
  expected: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const match = await connection.waitFor((frame) => isMatch(frame, expected))
  const window = await connection.probe()
  checkTyped(window)
  if (match === undefined) {
    throw new Error(
      `no ${JSON.stringify(expected)} arrived; got ${JSON.stringify(window.frames).slice(0, 500)}`,
    )
  }
  return match as Record<string, unknown>
}

function isMatch(frame: unknown, expected: Record<string, unknown>): boolean {
  const record = frame as Record<string, unknown>
  return Object.entries(expected).every(([key, value]) => record[key] === value)
}

/** The answer the protocol promises for `text` is in the window (unless the connection went away first). */
function checkExpected(text: string, expected: Expected, window: ProbeWindow): void {
  const shown = text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text
  if (expected.kind === 'close') {
    expect(window.closed?.code, `close after ${shown}`).toBe(expected.code)
    return
  }
  if (expected.kind === 'http') {
    const answer = window.sendAnswers[0]
    expect(answer?.status, `poll send of ${shown}`).toBe(expected.status)
    expect(HttpError.parse(answer?.body).error.code).toBe(expected.code)
    return
  }
  if (expected.kind === 'any' || window.closed !== undefined) return
  const errors = window.frames.filter((frame) => (frame as { type?: unknown }).type === 'error') as Array<{
    code: string
    id?: string
  }>
  expect(
    errors.some((error) => error.code === expected.code && error.id === expected.id),
    `expected error ${expected.code} (id ${expected.id}) for ${shown}, got ${JSON.stringify(window.frames).slice(0, 500)}`,
  ).toBe(true)
}

describe.each(['websocket', 'polling'] as const)('hostile frames over %s', (transport) => {
  let server: TestGateway
  let watch: ProcessWatch
  let connection: FuzzConnection | undefined
  /** Whether `connection` was greeted when it was opened. */
  let connectionGreeted = false
  let peer: FuzzConnection | undefined
  const urls = () => ({ url: server.started.url, wsUrl: server.started.wsUrl })

  /**
   * The shared connection, reopened after the gateway closed it. Asked for a greeted one, it never hands out
   * one that was opened without `hello`: mutated handshake frames would finish that handshake their own way
   * (a pairing `hello` parks it, waiting for an operator, for good).
   */
  async function live(greeted: boolean): Promise<FuzzConnection> {
    if (connection !== undefined && connection.closed === undefined) {
      if (connectionGreeted || !greeted) return connection
      connection.close()
    }
    connection = await FuzzConnection.open(transport, urls())
    connectionGreeted = greeted
    if (greeted) await greet(connection, HELLO, REGISTER)
    return connection
  }

  /** Sends `hello` and then `agent_register` when given, each once the answer to the one before is in. */
  async function greet(
    client: FuzzConnection,
    hello: object,
    register?: { id: string; [field: string]: unknown },
  ): Promise<void> {
    // One at a time: `hello` is answered asynchronously, and a frame before its `welcome` is refused.
    await client.sendText(JSON.stringify(hello))
    await probeUntil(client, { type: 'welcome' })
    if (register === undefined) return
    await client.sendText(JSON.stringify(register))
    await probeUntil(client, { type: 'reply', id: register.id })
  }

  /**
   * The peer (client id `fuzz-peer`, agent `fuzz-peer-agent`): the sample frames send and signal to it.
   * Reopened when the gateway closed it (it is reaped after two silent heartbeat intervals).
   */
  async function livePeer(): Promise<FuzzConnection> {
    if (peer !== undefined && peer.closed === undefined) return peer
    peer = await FuzzConnection.open(transport, urls())
    await greet(
      peer,
      { type: 'hello', id: 'peer-hello', clientId: 'fuzz-peer', protocol: { min: 1, max: 1 } },
      { type: 'agent_register', id: 'peer-register', agentId: 'fuzz-peer-agent', capabilities: [] },
    )
    return peer
  }

  /**
   * A caller and an agent of their own for one run of the follow-up property, greeted and registered: a
   * run must not depend on what earlier runs or properties did to a shared connection (fast-check replays
   * and shrinks runs one by one, and a follow-up mutated into another frame type, `agent_unregister` say,
   * would break every later run). The agent id is the run's, so no late close of an earlier run's agent
   * leaves a second instance to route to. The caller cannot be the agent: it cannot stream to itself.
   */
  async function followUpPair(marker: string): Promise<{ caller: FuzzConnection; agent: FuzzConnection }> {
    const caller = await FuzzConnection.open(transport, urls())
    const agent = await FuzzConnection.open(transport, urls())
    try {
      await greet(caller, HELLO)
      await greet(agent, HELLO, {
        type: 'agent_register',
        id: 'agent-register',
        agentId: marker,
        capabilities: [],
      })
    } catch (error) {
      caller.close()
      agent.close()
      throw error
    }
    return { caller, agent }
  }

  async function sendAndCheck(text: string, greeted: boolean): Promise<void> {
    const client = await live(greeted)
    await client.sendText(text)
    const window = await client.probe()
    checkTyped(window)
    checkExpected(text, expectedAnswer(text, transport), window)
    expect(watch.newProblems()).toEqual([])
  }

  beforeAll(async () => {
    watch = watchProcess()
    // The Postgres stores, as in production: a database refuses input that memory stores take.
    server = await startDatabaseGateway(
      { maxPayload: MAX_PAYLOAD, authFailureLimit: 1_000_000 },
      { logger: watch.logger },
    )
    await livePeer()
  })

  afterAll(async () => {
    peer?.close()
    connection?.close()
    await server?.dispose()
    watch?.stop()
  })

  it(
    'answers garbage text (broken JSON, non-objects, huge and deeply nested documents) with a typed error or a documented close',
    async () => {
      await fc.assert(
        fc.asyncProperty(garbageText(MAX_PAYLOAD), fc.boolean(), async ({ text }, greeted) => {
          await sendAndCheck(text, greeted)
        }),
        fuzzParameters(GARBAGE_RUNS),
      )
    },
    fuzzTimeoutMs(GARBAGE_RUNS),
  )

  it(
    'answers frames of every type with mutated fields with the typed error their parse gives, and only typed errors otherwise',
    async () => {
      await fc.assert(
        fc.asyncProperty(mutatedFrameText(MAX_PAYLOAD + 1024), async ({ text }) => {
          await sendAndCheck(text, true)
        }),
        fuzzParameters(MUTATED_RUNS),
      )
    },
    fuzzTimeoutMs(MUTATED_RUNS),
  )

  it(
    'answers valid and mutated frames in any order, before hello included, with typed errors only',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof(sampleFrameText(), mutatedFrameText(1024)), { minLength: 1, maxLength: 8 }),
          async (texts) => {
            const client = await FuzzConnection.open(transport, urls())
            try {
              for (const { text } of texts) await client.sendText(text)
              const window = await client.probe()
              checkTyped(window)
              expect(watch.newProblems()).toEqual([])
            } finally {
              client.close()
            }
          },
        ),
        fuzzParameters(SEQUENCE_RUNS, 1_000),
      )
    },
    fuzzTimeoutMs(SEQUENCE_RUNS, 1_000),
  )

  it.runIf(transport === 'websocket')(
    'answers binary frames and text frames that are not UTF-8 with a typed error or a documented close',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (bytes, binary) => {
          const client = (await live(true)) as WebSocketFuzzConnection
          client.sendBytes(Buffer.from(bytes), binary)
          const window = await client.probe()
          checkTyped(window)
          if (binary) {
            expect(window.frames).toContainEqual(
              expect.objectContaining({ type: 'error', code: 'invalid_frame' }),
            )
          }
          expect(watch.newProblems()).toEqual([])
        }),
        fuzzParameters(BYTES_RUNS),
      )
    },
    fuzzTimeoutMs(BYTES_RUNS),
  )

  it(
    'answers mutated follow-ups of a live request and a live stream (respond, stream_*) with typed errors only',
    async () => {
      let run = 0
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.tuple(
              mutatedObject(
                FOLLOW_UP_TYPES.map((type) => SAMPLE_FRAMES[type]),
                1024,
              ).map((frame) => fuzzText(safeStringify(frame))),
              fc.boolean(),
            ),
            { minLength: 1, maxLength: 6 },
          ),
          async (followUps) => {
            run += 1
            const marker = `fuzz-follow-up-${run}`
            const { caller, agent } = await followUpPair(marker)
            try {
              await caller.sendText(
                JSON.stringify({ type: 'request', id: `rq-${marker}`, target: marker, data: marker }),
              )
              const request = await probeUntil(agent, { type: 'request_incoming', data: marker })
              await caller.sendText(
                JSON.stringify({ type: 'stream_open', id: `so-${marker}`, target: marker, data: marker }),
              )
              const stream = await probeUntil(agent, { type: 'stream_incoming', data: marker })
              // Each follow-up comes from either end: the agent's answer and chunks, or the caller's credit and abort.
              for (const [{ text }, fromAgent] of followUps) {
                await (fromAgent ? agent : caller).sendText(
                  text
                    .replaceAll('cor_unknown', String(request.correlationId))
                    .replaceAll('str_unknown', String(stream.streamId)),
                )
              }
              checkTyped(await caller.probe())
              checkTyped(await agent.probe())
              // What is still open ends (the connections' close would end it too, without these frames).
              await agent.sendText(
                JSON.stringify({ type: 'respond', correlationId: request.correlationId, data: 'done' }),
              )
              await caller.sendText(JSON.stringify({ type: 'stream_abort', streamId: stream.streamId }))
              checkTyped(await caller.probe())
              checkTyped(await agent.probe())
              expect(watch.newProblems()).toEqual([])
            } finally {
              caller.close()
              agent.close()
            }
          },
        ),
        fuzzParameters(FOLLOW_UP_RUNS, 1_000),
      )
    },
    fuzzTimeoutMs(FOLLOW_UP_RUNS, 1_000),
  )

  it.runIf(transport === 'polling')(
    'answers batches of frames in one /poll/send with the typed error of each invalid one, in a batch of any size',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(mutatedFrameText(1024), { minLength: 1, maxLength: 20 }),
          async (generated) => {
            const texts = generated.map(({ text }) => text)
            const client = (await live(true)) as PollingFuzzConnection
            await client.sendBatch(texts)
            const window = await client.probe()
            checkTyped(window)
            if (window.closed !== undefined) return
            // Each invalid frame has its own error: match them one to one, in order.
            const errors = window.frames.filter(
              (frame) => (frame as { type?: unknown }).type === 'error',
            ) as Array<{
              code: string
              id?: string
            }>
            let from = 0
            for (const text of texts) {
              const expected = expectedAnswer(text, transport)
              if (expected.kind !== 'error') continue
              const at = errors.findIndex(
                (error, index) => index >= from && error.code === expected.code && error.id === expected.id,
              )
              expect(
                at,
                `expected ${expected.code} (id ${expected.id}) for ${text.slice(0, 200)}`,
              ).toBeGreaterThanOrEqual(0)
              from = at + 1
            }
            expect(watch.newProblems()).toEqual([])
          },
        ),
        fuzzParameters(BATCH_RUNS),
      )
    },
    fuzzTimeoutMs(BATCH_RUNS),
  )

  it('still answers /health and serves a fresh client after the fuzzing, with nothing uncaught in the process', async () => {
    const health = await fetch(`${server.started.url}/health`)
    expect(health.status).toBe(200)
    expect(Health.parse(await health.json()).status).toBe('ok')

    // Everything the peer received while the fuzzing went on is in the protocol too.
    checkTyped(await (await livePeer()).probe())

    await expectStillServing(watch, urls(), { subscriber: transport, publisher: transport })
  })
})
