import type { ClientFrame } from '@parley/protocol'
import { describe, expect, it } from 'vitest'
import type { StreamHandler } from './agent-client.js'
import type { StreamSink } from './agent-streams.js'
import { AbortedError, AgentError, FlowControlError, NoRouteError } from './errors.js'
import { type AgentGateway, useAgentFixtures, waitUntil } from './test-support/agent-gateway.js'
import type { ScriptedConnection } from './test-support/scripted-server.js'

const fixtures = useAgentFixtures()

type StreamOpen = Extract<ClientFrame, { type: 'stream_open' }>

/** A gateway standing in for the agent too: `onOpen` runs after it answered `stream_open` with `str_1`. */
function streamingGateway(onOpen: (connection: ScriptedConnection, frame: StreamOpen) => void) {
  return fixtures.gateway({
    onFrame(connection, frame) {
      if (frame.type !== 'stream_open') return false
      connection.send({
        type: 'reply',
        id: frame.id,
        result: { streamId: 'str_1', agentId: 'writer', instanceId: 'inst-1', traceId: 't' },
      })
      onOpen(connection, frame)
      return true
    },
  })
}

/** Every frame sent before the ping has been handled by the gateway once the pong arrives. */
async function roundTrip(gateway: AgentGateway, connection: ScriptedConnection): Promise<void> {
  const ts = Date.now() + Math.random()
  const pong = gateway.server.nextFrame((frame) => frame.type === 'pong' && frame.ts === ts)
  connection.send({ type: 'ping', ts })
  await pong
}

/** A caller connected to `gateway`. */
async function connectedCaller(gateway: AgentGateway) {
  const caller = fixtures.caller(gateway.server.url)
  await caller.connect()
  return caller
}

/** Sends chunks 1 to `count` of `str_1`, each with its seq as data. */
function sendChunks(connection: ScriptedConnection, count: number): void {
  for (let seq = 1; seq <= count; seq += 1) {
    connection.send({ type: 'stream_chunk', streamId: 'str_1', seq, data: seq })
  }
}

/**
 * A caller's stream to `writer` with `credit`, whose agent sends 4 chunks at once; resolves once the 4 are
 * buffered (nothing read yet), with the connection the gateway sees.
 */
async function fourBufferedChunks(credit: number) {
  let connection: ScriptedConnection | undefined
  const gateway = await streamingGateway((conn) => {
    connection = conn
    sendChunks(conn, 4)
  })
  const caller = await connectedCaller(gateway)
  const stream = caller.stream<number>('writer', {}, { credit })
  await waitUntil(() => stream.buffered === 4, 2_000, 'the four chunks')
  return { gateway, connection: connection as ScriptedConnection, stream }
}

function framesOf<T extends ClientFrame['type']>(connection: ScriptedConnection, type: T) {
  return connection.frames.filter((frame): frame is Extract<ClientFrame, { type: T }> => frame.type === type)
}

describe('AgentCaller.stream', () => {
  it('reads 10,000 chunks in order, granting credit as it reads and never more than the window', async () => {
    const total = 10_000
    const window = 32
    let consumed = 0
    let sent = 0
    let granted = 0
    let overGranted = false
    let connection: ScriptedConnection | undefined
    const pump = (): void => {
      while (sent < granted && sent < total) {
        sent += 1
        connection?.send({ type: 'stream_chunk', streamId: 'str_1', seq: sent, data: sent })
      }
      if (sent === total) connection?.send({ type: 'stream_end', streamId: 'str_1', data: { count: total } })
    }
    const gateway = await fixtures.gateway({
      onFrame(conn, frame) {
        if (frame.type === 'stream_open') {
          connection = conn
          granted = frame.credit ?? 0
          conn.send({
            type: 'reply',
            id: frame.id,
            result: { streamId: 'str_1', agentId: 'writer', instanceId: 'inst-1', traceId: 't' },
          })
          pump()
          return true
        }
        if (frame.type === 'stream_credit') {
          granted += frame.credit
          // Granted beyond what the reader consumed plus one window: the reader could be flooded.
          if (granted - consumed > window) overGranted = true
          pump()
          return true
        }
        return false
      },
    })
    const caller = await connectedCaller(gateway)

    const stream = caller.stream<number>('writer', { n: total }, { credit: window })
    const seen: number[] = []
    for await (const chunk of stream) {
      seen.push(chunk)
      consumed += 1
    }

    expect(seen).toHaveLength(total)
    expect(seen.every((value, index) => value === index + 1)).toBe(true)
    expect(stream.streamId).toBe('str_1')
    expect(stream.trailer).toEqual({ count: total })
    expect(overGranted).toBe(false)
    // The opener's direction ends with the agent's, so the gateway sees both directions ended.
    await waitUntil(
      () => framesOf(connection as ScriptedConnection, 'stream_end').length === 1,
      2_000,
      'stream_end',
    )
    expect(framesOf(connection as ScriptedConnection, 'stream_end')).toEqual([
      { type: 'stream_end', streamId: 'str_1' },
    ])
    const opened = framesOf(connection as ScriptedConnection, 'stream_open')[0]
    expect(opened).toMatchObject({ target: 'writer', data: { n: total }, credit: window })
    const credits = framesOf(connection as ScriptedConnection, 'stream_credit')
    expect(credits.length).toBeGreaterThan(total / window)
    // Half a window at a time while chunks are waiting; less when the reader ran dry (see the next tests).
    expect(credits.every((frame) => frame.credit >= 1 && frame.credit <= window)).toBe(true)
    // 10,000 chunks (hundreds of credit round trips): seconds on a loaded machine, so a bound that holds there.
  }, 60_000)

  it('grants what it read once it runs dry, even below half the window (the gateway may cut the credit)', async () => {
    // A gateway whose streamWindow (4) is below the reader's credit (64): it lets only 4 chunks through.
    const { gateway, connection, stream } = await fourBufferedChunks(64)
    const iterator = stream[Symbol.asyncIterator]()
    for (let seq = 1; seq <= 3; seq += 1) expect(await iterator.next()).toEqual({ done: false, value: seq })
    await roundTrip(gateway, connection)
    // Chunks are still buffered: nothing is granted below half the window.
    expect(framesOf(connection, 'stream_credit')).toEqual([])
    expect(await iterator.next()).toEqual({ done: false, value: 4 })
    const credit = gateway.server.nextFrame((frame) => frame.type === 'stream_credit')
    const fifth = iterator.next()
    expect((await credit).frame).toEqual({ type: 'stream_credit', streamId: 'str_1', credit: 4 })
    connection.send({ type: 'stream_chunk', streamId: 'str_1', seq: 5, data: 5 })
    expect(await fifth).toEqual({ done: false, value: 5 })
  })

  it('never grants more credit while the consumer does not read, and grants half a window once it read that', async () => {
    const { gateway, connection: conn, stream } = await fourBufferedChunks(4)

    await roundTrip(gateway, conn)
    expect(framesOf(conn, 'stream_credit')).toEqual([])

    const iterator = stream[Symbol.asyncIterator]()
    expect(await iterator.next()).toEqual({ done: false, value: 1 })
    await roundTrip(gateway, conn)
    expect(framesOf(conn, 'stream_credit')).toEqual([])
    expect(await iterator.next()).toEqual({ done: false, value: 2 })
    const credit = await gateway.server.nextFrame((frame) => frame.type === 'stream_credit')
    expect(credit.frame).toEqual({ type: 'stream_credit', streamId: 'str_1', credit: 2 })
    expect(stream.buffered).toBe(2)
  })

  it('sends stream_abort when the consumer breaks out of for-await', async () => {
    const gateway = await streamingGateway((conn) => {
      sendChunks(conn, 8)
    })
    const caller = await connectedCaller(gateway)
    const aborted = gateway.server.nextFrame((frame) => frame.type === 'stream_abort')
    for await (const chunk of caller.stream<number>('writer', {})) {
      if (chunk === 3) break
    }
    expect((await aborted).frame).toEqual({ type: 'stream_abort', streamId: 'str_1', reason: 'cancelled' })
  })

  it('aborts with abort() and with an AbortSignal, rejecting the pending read with AbortedError', async () => {
    const gateway = await streamingGateway(() => undefined)
    const caller = await connectedCaller(gateway)
    const controller = new AbortController()
    const stream = caller.stream('writer', {}, { signal: controller.signal })
    await stream.opened
    const aborted = gateway.server.nextFrame((frame) => frame.type === 'stream_abort')
    const reading = stream[Symbol.asyncIterator]()
      .next()
      .catch((caught: unknown) => caught)
    controller.abort('user left')
    expect(await reading).toBeInstanceOf(AbortedError)
    expect((await aborted).frame).toMatchObject({ streamId: 'str_1', reason: 'user left' })
  })

  it('sends stream_abort once the open is answered when aborted before that', async () => {
    let answer: (() => void) | undefined
    const gateway = await fixtures.gateway({
      onFrame(conn, frame) {
        if (frame.type !== 'stream_open') return false
        answer = () =>
          conn.send({
            type: 'reply',
            id: frame.id,
            result: { streamId: 'str_7', agentId: 'writer', instanceId: 'inst-1', traceId: 't' },
          })
        return true
      },
    })
    const caller = await connectedCaller(gateway)
    const stream = caller.stream('writer', {})
    await waitUntil(() => answer !== undefined, 2_000, 'the stream_open')
    stream.abort('changed my mind')
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(AbortedError)

    const aborted = gateway.server.nextFrame((frame) => frame.type === 'stream_abort')
    answer?.()
    expect((await aborted).frame).toEqual({
      type: 'stream_abort',
      streamId: 'str_7',
      reason: 'changed my mind',
    })
    expect(stream.done).toBe(true)
  })

  it('throws AbortedError from the iterator when the agent aborts', async () => {
    const gateway = await streamingGateway((conn) => {
      conn.send({ type: 'stream_chunk', streamId: 'str_1', seq: 1, data: 'a' })
      conn.send({ type: 'stream_abort', streamId: 'str_1', reason: 'peer_gone' })
    })
    const caller = await connectedCaller(gateway)
    const seen: unknown[] = []
    const error = await (async () => {
      for await (const chunk of caller.stream('writer', {})) seen.push(chunk)
    })().catch((caught: unknown) => caught)
    expect(seen).toEqual(['a'])
    expect(error).toBeInstanceOf(AbortedError)
    expect(error).toMatchObject({ name: 'AbortError', reason: 'peer_gone' })
  })

  it('throws AgentError with the agent code on stream_error, FlowControlError for flow_control', async () => {
    let code = 'model_failed'
    const gateway = await streamingGateway((conn) => {
      conn.send({ type: 'stream_error', streamId: 'str_1', error: { code, message: 'boom' } })
    })
    const caller = await connectedCaller(gateway)
    const drain = async (): Promise<void> => {
      for await (const _chunk of caller.stream('writer', {})) {
        // drained
      }
    }
    const agentError = await drain().catch((caught: unknown) => caught)
    expect(agentError).toBeInstanceOf(AgentError)
    expect(agentError).toMatchObject({ agentCode: 'model_failed', agentMessage: 'boom' })
    code = 'flow_control'
    await expect(drain()).rejects.toBeInstanceOf(FlowControlError)
  })

  it('answers chunks beyond the granted credit with stream_error flow_control and throws FlowControlError', async () => {
    const gateway = await streamingGateway((conn) => {
      sendChunks(conn, 3)
    })
    const caller = await connectedCaller(gateway)
    const refused = gateway.server.nextFrame((frame) => frame.type === 'stream_error')
    // Nothing is read (so no credit is granted) until the overflow was refused.
    const stream = caller.stream('writer', {}, { credit: 2 })
    expect((await refused).frame).toMatchObject({ streamId: 'str_1', error: { code: 'flow_control' } })
    const seen: unknown[] = []
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk)
    })().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(FlowControlError)
    expect(seen).toEqual([1, 2])
  })

  it('throws the open refusal (NoRouteError) from the iterator', async () => {
    const gateway = await fixtures.gateway({
      onFrame(conn, frame) {
        if (frame.type !== 'stream_open') return false
        conn.send({ type: 'error', id: frame.id, code: 'no_route', message: 'nobody', retryable: false })
        return true
      },
    })
    const caller = await connectedCaller(gateway)
    const stream = caller.stream('nobody', {})
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(NoRouteError)
  })

  it('ends an open stream with AbortedError when the connection drops', async () => {
    const gateway = await streamingGateway(() => undefined)
    const caller = await connectedCaller(gateway)
    const stream = caller.stream('writer', {})
    await stream.opened
    const reading = stream[Symbol.asyncIterator]()
      .next()
      .catch((caught: unknown) => caught)
    gateway.server.dropAll()
    expect(await reading).toMatchObject({ name: 'AbortError', reason: 'connection_lost' })
  })
})

describe('AgentClient.handleStream', () => {
  async function servingAgent(handler: StreamHandler) {
    const gateway = await fixtures.gateway()
    const agent = fixtures.agent(gateway.server.url, { agentId: 'writer', capabilities: ['write'] })
    agent.handleStream(handler)
    await agent.connect()
    const connection = gateway.registrations[0]?.connection as ScriptedConnection
    return { gateway, agent, connection }
  }

  function open(connection: ScriptedConnection, credit: number, data: unknown = {}) {
    connection.send({
      type: 'stream_incoming',
      streamId: 'str_9',
      from: { principal: 'alice', role: 'client', clientId: 'web-1' },
      data,
      credit,
      traceId: 't',
    })
  }

  it('makes sink.write wait for credit, then carries on when credit arrives, and ends on return', async () => {
    let attempted = 0
    const { gateway, connection } = await servingAgent(async (_data, sink) => {
      for (let n = 1; n <= 5; n += 1) {
        attempted = n
        await sink.write(`chunk ${n}`)
      }
      return undefined
    })
    open(connection, 2)
    await waitUntil(() => attempted === 3, 2_000, 'the third write')
    await roundTrip(gateway, connection)
    expect(framesOf(connection, 'stream_chunk').map((frame) => frame.seq)).toEqual([1, 2])

    const ended = gateway.server.nextFrame((frame) => frame.type === 'stream_end')
    connection.send({ type: 'stream_credit', streamId: 'str_9', credit: 3 })
    await ended
    expect(framesOf(connection, 'stream_chunk').map((frame) => [frame.seq, frame.data])).toEqual([
      [1, 'chunk 1'],
      [2, 'chunk 2'],
      [3, 'chunk 3'],
      [4, 'chunk 4'],
      [5, 'chunk 5'],
    ])
    expect(framesOf(connection, 'stream_end')).toEqual([{ type: 'stream_end', streamId: 'str_9' }])
  })

  it('sends the trailer given to sink.end()', async () => {
    const { gateway, connection } = await servingAgent(async (_data, sink) => {
      await sink.write(1)
      sink.end({ tokens: 1 })
    })
    const ended = gateway.server.nextFrame((frame) => frame.type === 'stream_end')
    open(connection, 4)
    expect((await ended).frame).toEqual({ type: 'stream_end', streamId: 'str_9', data: { tokens: 1 } })
    expect(framesOf(connection, 'stream_end')).toHaveLength(1)
  })

  it('sends stream_error with the thrown code when the handler throws, and with sink.error', async () => {
    const { gateway, connection } = await servingAgent(async (data, sink) => {
      if (data === 'explicit') sink.error('bad_input', 'no thanks')
      else throw Object.assign(new Error('model died'), { code: 'model_failed' })
    })
    const thrown = gateway.server.nextFrame((frame) => frame.type === 'stream_error')
    open(connection, 1, 'throw')
    expect((await thrown).frame).toEqual({
      type: 'stream_error',
      streamId: 'str_9',
      error: { code: 'model_failed', message: 'model died' },
    })
    const explicit = gateway.server.nextFrame((frame) => frame.type === 'stream_error')
    open(connection, 1, 'explicit')
    expect((await explicit).frame).toMatchObject({ error: { code: 'bad_input', message: 'no thanks' } })
  })

  it('fires sink.signal and rejects the waiting write when the caller aborts; nothing more is sent', async () => {
    let sink: StreamSink | undefined
    let writeError: unknown
    const { gateway, connection } = await servingAgent(async (_data, given) => {
      sink = given
      await given.write(1)
      await given.write(2).catch((caught: unknown) => {
        writeError = caught
        throw caught
      })
    })
    open(connection, 1)
    await waitUntil(() => framesOf(connection, 'stream_chunk').length === 1, 2_000, 'the first chunk')
    connection.send({ type: 'stream_abort', streamId: 'str_9', reason: 'user cancelled' })
    await waitUntil(() => sink?.signal.aborted === true, 2_000, 'the abort signal')
    await waitUntil(() => writeError !== undefined, 2_000, 'the write to fail')
    expect(writeError).toBeInstanceOf(AbortedError)
    await roundTrip(gateway, connection)
    expect(framesOf(connection, 'stream_chunk')).toHaveLength(1)
    expect(framesOf(connection, 'stream_error')).toEqual([])
    expect(framesOf(connection, 'stream_end')).toEqual([])
  })

  it('sends stream_abort with the reason on sink.abort(), fires sink.signal and refuses later writes', async () => {
    let sink: StreamSink | undefined
    let writeError: unknown
    const { gateway, connection } = await servingAgent(async (_data, given) => {
      sink = given
      await given.write(1)
      given.abort('model unloaded')
      await given.write(2).catch((caught: unknown) => {
        writeError = caught
      })
    })
    const aborted = gateway.server.nextFrame((frame) => frame.type === 'stream_abort')
    open(connection, 4)
    expect((await aborted).frame).toEqual({
      type: 'stream_abort',
      streamId: 'str_9',
      reason: 'model unloaded',
    })
    await waitUntil(() => writeError !== undefined, 2_000, 'the write to fail')
    expect(writeError).toBeInstanceOf(AbortedError)
    expect(sink?.signal.aborted).toBe(true)
    await roundTrip(gateway, connection)
    expect(framesOf(connection, 'stream_chunk')).toHaveLength(1)
    expect(framesOf(connection, 'stream_abort')).toHaveLength(1)
    expect(framesOf(connection, 'stream_end')).toEqual([])
  })

  it('answers stream_error no_handler without a stream handler', async () => {
    const gateway = await fixtures.gateway()
    const agent = fixtures.agent(gateway.server.url, { agentId: 'writer', capabilities: [] })
    await agent.connect()
    const connection = gateway.registrations[0]?.connection as ScriptedConnection
    const failed = gateway.server.nextFrame((frame) => frame.type === 'stream_error')
    open(connection, 1)
    expect((await failed).frame).toMatchObject({ streamId: 'str_9', error: { code: 'no_handler' } })
  })

  it('aborts sink.signal of a served stream when the connection drops', async () => {
    let sink: StreamSink | undefined
    const { gateway, connection } = await servingAgent(async (_data, given) => {
      sink = given
      await new Promise<void>((resolve) => given.signal.addEventListener('abort', () => resolve()))
    })
    open(connection, 1)
    await waitUntil(() => sink !== undefined, 2_000, 'the handler')
    gateway.server.dropAll()
    await waitUntil(() => sink?.signal.aborted === true, 2_000, 'the abort signal')
  })
})
