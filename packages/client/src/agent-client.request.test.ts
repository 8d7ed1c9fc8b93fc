import type { ClientFrame, ErrorCode } from '@parley/protocol'
import { describe, expect, it } from 'vitest'
import type { RequestContext } from './agent-client.js'
import {
  AbortedError,
  AgentError,
  AgentUnavailableError,
  IntroductionRequiredError,
  NoRouteError,
  ParleyError,
  PolicyDeniedError,
  RequestTimeoutError,
  TimeoutError,
} from './errors.js'
import { useAgentFixtures, waitUntil } from './test-support/agent-gateway.js'
import type { ScriptedConnection } from './test-support/scripted-server.js'

const fixtures = useAgentFixtures()

type RequestFrame = Extract<ClientFrame, { type: 'request' }>

/** A gateway that answers every `request` with `answer`. */
function answering(answer: (connection: ScriptedConnection, frame: RequestFrame) => void) {
  return fixtures.gateway({
    onFrame(connection, frame) {
      if (frame.type !== 'request') return false
      answer(connection, frame)
      return true
    },
  })
}

function refusing(code: ErrorCode, details?: Record<string, unknown>) {
  return answering((connection, frame) => {
    connection.send({
      type: 'error',
      id: frame.id,
      code,
      message: `refused with ${code}`,
      retryable: code === 'agent_unavailable' || code === 'timeout',
      ...(details === undefined ? {} : { details }),
    })
  })
}

describe('AgentCaller.request', () => {
  it('sends the request frame and resolves with the agent answer, or the whole result with requestResult', async () => {
    const requests: RequestFrame[] = []
    const gateway = await answering((connection, frame) => {
      requests.push(frame)
      connection.send({
        type: 'reply',
        id: frame.id,
        result: {
          correlationId: 'req_1',
          data: { summary: `short ${JSON.stringify(frame.data)}` },
          agentId: 'summarizer',
          instanceId: 'inst-9',
          latencyMs: 12,
          attempts: 1,
          traceId: frame.traceId ?? 'generated',
        },
      })
    })
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()

    const data = await caller.request(
      { capability: 'summarize' },
      { text: 'long' },
      { idempotent: true, traceId: 't-1' },
    )
    const result = await caller.requestResult('summarizer', 'x', { timeoutMs: 5_000 })

    expect(data).toEqual({ summary: 'short {"text":"long"}' })
    expect(result).toMatchObject({ agentId: 'summarizer', instanceId: 'inst-9', latencyMs: 12, attempts: 1 })
    expect(requests[0]).toMatchObject({
      type: 'request',
      target: { capability: 'summarize' },
      data: { text: 'long' },
      idempotent: true,
      traceId: 't-1',
      // The gateway is told the timeout explicitly so that its answer comes before the client's own timer.
      timeoutMs: 30_000,
    })
    expect(requests[1]).toMatchObject({ target: 'summarizer', timeoutMs: 5_000 })
  })

  it('rejects with NoRouteError for no_route', async () => {
    const gateway = await refusing('no_route')
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    const error = await caller.request('nobody', 1).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(NoRouteError)
    expect(error).toBeInstanceOf(ParleyError)
    expect(error).toMatchObject({ code: 'no_route', retryable: false })
  })

  it('rejects with RequestTimeoutError (a TimeoutError, code timeout) for the gateway timeout', async () => {
    const gateway = await refusing('timeout')
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    const error = await caller.request('slow', 1, { timeoutMs: 100 }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(RequestTimeoutError)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ code: 'timeout', message: 'refused with timeout' })
  })

  it('does not let its own timer fire before the gateway answers timeout', async () => {
    // The gateway answers `timeout` a little after timeoutMs, as a real gateway would under load.
    const gateway = await answering((connection, frame) => {
      setTimeout(
        () => {
          connection.send({
            type: 'error',
            id: frame.id,
            code: 'timeout',
            message: 'gateway timeout',
            retryable: true,
          })
        },
        (frame.timeoutMs ?? 0) + 300,
      )
    })
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    const error = await caller.request('slow', 1, { timeoutMs: 50 }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(RequestTimeoutError)
    expect(error).toMatchObject({ message: 'gateway timeout' })
  })

  it('rejects with PolicyDeniedError carrying the deciding rule', async () => {
    const gateway = await refusing('policy_denied', { rule: 'pol_7' })
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    const error = await caller.request('billing', 1).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PolicyDeniedError)
    expect(error).toMatchObject({ code: 'policy_denied', rule: 'pol_7', details: { rule: 'pol_7' } })
  })

  it('rejects with IntroductionRequiredError for introduction_required', async () => {
    const gateway = await refusing('introduction_required')
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    await expect(caller.request('billing', 1)).rejects.toBeInstanceOf(IntroductionRequiredError)
  })

  it('rejects with AgentError carrying the agent code and message', async () => {
    const gateway = await refusing('agent_error', { code: 'model_overloaded', message: 'try later' })
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    const error = await caller.request('summarizer', 1).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AgentError)
    expect(error).toMatchObject({
      code: 'agent_error',
      agentCode: 'model_overloaded',
      agentMessage: 'try later',
    })
  })

  it('rejects with a retryable AgentUnavailableError for agent_unavailable', async () => {
    const gateway = await refusing('agent_unavailable')
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    const error = await caller.request('summarizer', 1).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AgentUnavailableError)
    expect(error).toMatchObject({ code: 'agent_unavailable', retryable: true })
  })

  it('rejects with AbortedError when its AbortSignal fires, and drops the late answer', async () => {
    let answer: (() => void) | undefined
    const gateway = await answering((connection, frame) => {
      answer = () =>
        connection.send({
          type: 'reply',
          id: frame.id,
          result: {
            correlationId: 'c',
            data: 1,
            agentId: 'a',
            instanceId: 'i',
            latencyMs: 1,
            attempts: 1,
            traceId: 't',
          },
        })
    })
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    const controller = new AbortController()
    const pending = caller.request('a', 1, { signal: controller.signal }).catch((caught: unknown) => caught)
    await waitUntil(() => answer !== undefined)
    controller.abort('user left')
    const error = await pending
    expect(error).toBeInstanceOf(AbortedError)
    expect(error).toMatchObject({ name: 'AbortError', reason: 'user left' })
    answer?.()
    // Still usable afterwards.
    await expect(caller.sharedState.get('ns', 'k')).resolves.toBeNull()
  })

  it('fails a request whose connection dropped with a retryable unavailable error', async () => {
    const gateway = await answering(() => {
      gateway.server.dropAll()
    })
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    const error = await caller.request('a', 1).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ParleyError)
    expect(error).toMatchObject({ code: 'unavailable', retryable: true })
  })

  it('refuses undefined data with bad_request before sending anything', async () => {
    const gateway = await fixtures.gateway()
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    await expect(caller.request('a', undefined)).rejects.toMatchObject({ code: 'bad_request' })
  })

  it('lists agents with agents_list, optionally by capability', async () => {
    const frames: ClientFrame[] = []
    const gateway = await fixtures.gateway({
      onFrame(connection, frame) {
        if (frame.type !== 'agents_list') return false
        frames.push(frame)
        connection.send({
          type: 'reply',
          id: frame.id,
          result: {
            agents: [
              {
                agentId: 'summarizer',
                capabilities: ['summarize'],
                status: 'active',
                connectedSince: 1,
                instances: [],
              },
            ],
          },
        })
        return true
      },
    })
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    const agents = await caller.agents({ capability: 'summarize' })
    expect(frames[0]).toMatchObject({ type: 'agents_list', capability: 'summarize' })
    expect(agents.map((agent) => agent.agentId)).toEqual(['summarizer'])
  })
})

describe('AgentClient.handle', () => {
  function incoming(
    connection: ScriptedConnection,
    correlationId: string,
    extra: Record<string, unknown> = {},
  ) {
    connection.send({
      type: 'request_incoming',
      correlationId,
      from: { principal: 'alice', role: 'client', clientId: 'web-1' },
      data: { text: 'hello' },
      deadline: Date.now() + 10_000,
      attempt: 1,
      idempotent: false,
      traceId: 'trace-1',
      ...extra,
    })
  }

  async function connectedAgent(setup: (agent: ReturnType<typeof fixtures.agent>) => void) {
    const gateway = await fixtures.gateway()
    const agent = fixtures.agent(gateway.server.url, {
      agentId: 'summarizer',
      capabilities: ['summarize', 'translate'],
    })
    setup(agent)
    await agent.connect()
    const connection = gateway.registrations[0]?.connection
    if (connection === undefined) throw new Error('not registered')
    return { gateway, agent, connection }
  }

  function nextRespond(gateway: Awaited<ReturnType<typeof fixtures.gateway>>, correlationId: string) {
    return gateway.server
      .nextFrame((frame) => frame.type === 'respond' && frame.correlationId === correlationId)
      .then(({ frame }) => frame)
  }

  it('answers request_incoming with the handler result and gives it the context', async () => {
    const contexts: RequestContext[] = []
    const { gateway, connection } = await connectedAgent((agent) =>
      agent.handle(async (data, context) => {
        contexts.push(context)
        return { summary: (data as { text: string }).text.toUpperCase() }
      }),
    )
    const respond = nextRespond(gateway, 'req_1')
    incoming(connection, 'req_1', { capability: 'summarize', attempt: 2, idempotent: true })
    expect(await respond).toEqual({ type: 'respond', correlationId: 'req_1', data: { summary: 'HELLO' } })
    expect(contexts[0]).toMatchObject({
      from: { principal: 'alice', clientId: 'web-1' },
      correlationId: 'req_1',
      traceId: 'trace-1',
      attempt: 2,
      idempotent: true,
      capability: 'summarize',
    })
    expect(contexts[0]?.signal.aborted).toBe(false)
  })

  it('answers null when the handler returns nothing', async () => {
    const { gateway, connection } = await connectedAgent((agent) => agent.handle(() => undefined))
    const respond = nextRespond(gateway, 'req_2')
    incoming(connection, 'req_2')
    expect(await respond).toMatchObject({ data: null })
  })

  it('answers an error with the thrown code, or handler_error when the throw has none', async () => {
    const { gateway, connection } = await connectedAgent((agent) =>
      agent.handle((data) => {
        if ((data as { text: string }).text === 'coded') {
          throw Object.assign(new Error('model is busy'), { code: 'model_overloaded' })
        }
        throw new Error('plain failure')
      }),
    )
    const coded = nextRespond(gateway, 'req_3')
    incoming(connection, 'req_3', { data: { text: 'coded' } })
    expect(await coded).toMatchObject({ error: { code: 'model_overloaded', message: 'model is busy' } })
    const plain = nextRespond(gateway, 'req_4')
    incoming(connection, 'req_4')
    expect(await plain).toMatchObject({ error: { code: 'handler_error', message: 'plain failure' } })
  })

  it('answers no_handler when no handler is set', async () => {
    const { gateway, connection } = await connectedAgent(() => undefined)
    const respond = nextRespond(gateway, 'req_5')
    incoming(connection, 'req_5')
    expect(await respond).toMatchObject({ error: { code: 'no_handler' } })
  })

  it('routes by capability to a per-capability handler, falling back to the catch-all', async () => {
    const { gateway, connection } = await connectedAgent((agent) =>
      agent.handle('translate', () => 'translated').handle(() => 'generic'),
    )
    const translated = nextRespond(gateway, 'req_6')
    incoming(connection, 'req_6', { capability: 'translate' })
    expect(await translated).toMatchObject({ data: 'translated' })
    const generic = nextRespond(gateway, 'req_7')
    incoming(connection, 'req_7', { capability: 'summarize' })
    expect(await generic).toMatchObject({ data: 'generic' })
  })

  it('aborts the signal of a handler whose deadline passed', async () => {
    let signal: AbortSignal | undefined
    const { connection } = await connectedAgent((agent) =>
      agent.handle(async (_data, context) => {
        signal = context.signal
        await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve()))
        return 'too late'
      }),
    )
    incoming(connection, 'req_10', { deadline: Date.now() + 20 })
    await waitUntil(() => signal?.aborted === true, 2_000, 'the deadline abort')
    expect(signal?.reason).toMatchObject({ name: 'AbortError', reason: 'deadline' })
  })

  it('drops the answer of a handler that returns after its deadline aborted it (the gateway has timed it out)', async () => {
    let aborted = false
    const { gateway, connection } = await connectedAgent((agent) =>
      agent.handle(async (_data, context) => {
        if (context.correlationId !== 'req_12') return 'quick'
        await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve()))
        aborted = true
        return 'too late'
      }),
    )
    // Frames on one socket keep their order: a late answer to req_12 would arrive before req_13's.
    const next = gateway.server.nextFrame((frame) => frame.type === 'respond').then(({ frame }) => frame)
    incoming(connection, 'req_12', { deadline: Date.now() + 20 })
    await waitUntil(() => aborted, 2_000, 'the deadline abort')
    incoming(connection, 'req_13')
    expect(await next).toMatchObject({ correlationId: 'req_13', data: 'quick' })
  })

  it('aborts the signal of a handler whose caller canceled (request_cancel) and sends no respond for it', async () => {
    let signal: AbortSignal | undefined
    const { gateway, connection } = await connectedAgent((agent) =>
      agent.handle(async (_data, context) => {
        if (context.correlationId !== 'req_11') return 'quick'
        signal = context.signal
        await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve()))
        return 'too late'
      }),
    )
    incoming(connection, 'req_11')
    await waitUntil(() => signal !== undefined, 2_000, 'the handler to start')
    connection.send({ type: 'request_cancel', correlationId: 'req_11', reason: 'canceled by the A2A caller' })
    await waitUntil(() => signal?.aborted === true, 2_000, 'the cancel abort')
    expect(signal?.reason).toMatchObject({ name: 'AbortError', reason: 'canceled' })
    // The next request is answered; the canceled one never is.
    const later = nextRespond(gateway, 'req_12')
    incoming(connection, 'req_12')
    await later
    expect(
      connection.frames.some((frame) => frame.type === 'respond' && frame.correlationId === 'req_11'),
    ).toBe(false)
  })

  it('aborts the signal of a handler in flight when the connection drops, and does not answer on the next one', async () => {
    let signal: AbortSignal | undefined
    let release: (() => void) | undefined
    const { gateway, agent, connection } = await connectedAgent((agent) =>
      agent.handle(async (_data, context) => {
        if (context.correlationId !== 'req_8') return 'quick'
        signal = context.signal
        await new Promise<void>((resolve) => {
          release = resolve
        })
        return 'late'
      }),
    )
    incoming(connection, 'req_8')
    await waitUntil(() => signal !== undefined, 2_000, 'the handler to start')
    const reconnected = new Promise<void>((resolve) => agent.on('connect', () => resolve()))
    gateway.server.dropAll()
    await waitUntil(() => signal?.aborted === true, 2_000, 'the abort')
    await reconnected
    release?.()
    // A later request is answered; the abandoned one is not.
    const later = nextRespond(gateway, 'req_9')
    const fresh = gateway.registrations[1]?.connection
    if (fresh === undefined) throw new Error('not registered again')
    incoming(fresh, 'req_9')
    await later
    expect(fresh.frames.some((frame) => frame.type === 'respond' && frame.correlationId === 'req_8')).toBe(
      false,
    )
  })
})

describe('bad input', () => {
  it('rejects bad targets, options and state names with bad_request without sending a frame', async () => {
    const gateway = await fixtures.gateway()
    const agent = fixtures.agent(gateway.server.url, { agentId: 'planner', capabilities: [] })
    await agent.connect()
    const connection = gateway.registrations[0]?.connection as ScriptedConnection
    const sentBefore = connection.frames.length

    await expect(agent.request('has spaces', 1)).rejects.toMatchObject({ code: 'bad_request' })
    await expect(agent.request({ capability: '' }, 1)).rejects.toMatchObject({ code: 'bad_request' })
    await expect(agent.request('a', 1, { timeoutMs: -5 })).rejects.toMatchObject({ code: 'bad_request' })
    await expect(agent.sendTo({ broadcast: false } as never, 1)).rejects.toMatchObject({
      code: 'bad_request',
    })
    await expect(agent.signal('peer', { type: 'hangup' } as never)).rejects.toMatchObject({
      code: 'bad_request',
    })
    await expect(agent.sharedState.get('bad namespace', 'k')).rejects.toMatchObject({ code: 'bad_request' })
    expect(() => agent.stream('a', 1, { credit: 0 })).toThrow(ParleyError)

    expect(connection.frames.length).toBe(sentBefore)
  })

  it('refuses an invalid agent id or capability when the agent is created', () => {
    expect(() =>
      fixtures.agent('ws://127.0.0.1:1/ws', { agentId: 'no spaces please', capabilities: [] }),
    ).toThrow(/agent_register/)
    expect(() => fixtures.agent('ws://127.0.0.1:1/ws', { agentId: 'ok', capabilities: ['bad cap'] })).toThrow(
      ParleyError,
    )
  })
})

describe('AgentCaller.callTool', () => {
  it('requests the capability mcp:{server}__{escaped tool} with the arguments and resolves with the CallToolResult', async () => {
    const requests: RequestFrame[] = []
    const toolResult = { content: [{ type: 'text', text: 'no such file' }], isError: true }
    const gateway = await answering((connection, frame) => {
      requests.push(frame)
      connection.send({
        type: 'reply',
        id: frame.id,
        result: {
          correlationId: 'req_2',
          data: toolResult,
          agentId: 'mcp.fs',
          instanceId: 'inst-1',
          latencyMs: 3,
          attempts: 1,
          traceId: 'generated',
        },
      })
    })
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()

    const result = await caller.callTool('fs', 'files.read', { path: '/tmp/x' }, { idempotent: true })
    await caller.callTool('fs', 'list')

    // A tool's own failure (`isError: true`) resolves: it is the tool's answer.
    expect(result).toEqual(toolResult)
    expect(requests[0]).toMatchObject({
      target: { capability: 'mcp:fs__files.2eread' },
      data: { path: '/tmp/x' },
      idempotent: true,
    })
    expect(requests[1]).toMatchObject({ target: { capability: 'mcp:fs__list' }, data: {} })
  })

  it('rejects with the typed error of a refusal, such as NoRouteError for a server that is down', async () => {
    const gateway = await refusing('no_route')
    const caller = fixtures.caller(gateway.server.url)
    await caller.connect()
    await expect(caller.callTool('fs', 'list')).rejects.toBeInstanceOf(NoRouteError)
  })
})
