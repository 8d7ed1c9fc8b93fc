/**
 * The request scenario's load roles, run by worker.ts: a share of the agent connections (each answers
 * every request at once), or the callers (one process, `window` requests in flight over all its
 * connections, sent round-robin).
 */
import { monotonicMs } from '../clock.js'
import { LatencyHistogram } from '../histogram.js'
import { type AgentWorkerConfig, benchAgentId, type CallerResult, type CallerWorkerConfig } from '../ipc.js'
import type { BenchConnection } from './clients.js'
import { a2aRequestClient, type CallerConnection, requestClientFor } from './request-clients.js'
import {
  CONNECT_TIMEOUT_MS,
  createSendRun,
  fail,
  isSending,
  measuredSent,
  onCommand,
  openAll,
  payloadPadding,
  runPhases,
  send,
  watchForStall,
} from './worker-io.js'

// ---------------------------------------------------------------- agents

export async function runAgents(config: AgentWorkerConfig): Promise<void> {
  const client = requestClientFor(config.target)
  const answered = Array.from({ length: config.connections }, () => 0)
  const closedByCode: Record<string, number> = {}
  let open = 0
  let connections: BenchConnection[]
  try {
    connections = await openAll(config.connections, config.connectConcurrency, async (index) => {
      const connection = await client.agent(
        {
          baseUrl: config.baseUrl,
          agentId: benchAgentId(config.workerIndex, index),
          capability: config.capability,
          timeoutMs: CONNECT_TIMEOUT_MS,
        },
        {
          onAnswered() {
            answered[index] = (answered[index] ?? 0) + 1
          },
          onClose(code) {
            open--
            closedByCode[code] = (closedByCode[code] ?? 0) + 1
            if (open === 0)
              fail(`all ${config.connections} agent connections were closed (last code ${code})`)
          },
        },
      )
      open++
      return connection
    })
  } catch (error) {
    fail(`agent set-up failed after ${open} connections: ${error instanceof Error ? error.message : error}`)
    return
  }
  send({ type: 'ready', connections: connections.length })

  onCommand((command) => {
    if (command.type !== 'report') return
    send({ type: 'agent-result', result: { answered, closedByCode } })
  })
}

// ---------------------------------------------------------------- callers

export async function runCallers(config: CallerWorkerConfig): Promise<void> {
  const client = config.a2aUrl === undefined ? requestClientFor(config.target) : a2aRequestClient
  const errorsByCode: Record<string, number> = {}
  const roundTripLatency = new LatencyHistogram()
  /** Send times of the requests waiting for their answer (the window), by sequence number. */
  const sentAt = new Map<number, number>()
  const run = createSendRun()
  let nextSeq = 1
  let nextConnection = 0
  let measuredAnswered = 0

  // Requests are padded to about `payloadBytes`, as publications are.
  const pad = payloadPadding(config.payloadBytes)

  const isMeasured = (seq: number) =>
    seq >= run.firstMeasuredSeq &&
    run.firstMeasuredSeq > 0 &&
    (run.lastMeasuredSeq === 0 || seq <= run.lastMeasuredSeq)

  /** One answer (a reply or an error) frees a slot of the window. */
  const answer = (seq: number, ok: boolean) => {
    const sent = sentAt.get(seq)
    if (sent === undefined) return
    sentAt.delete(seq)
    if (ok && isMeasured(seq)) {
      roundTripLatency.record(monotonicMs() - sent)
      measuredAnswered++
    }
    run.lastProgressAt = monotonicMs()
    pump()
  }

  let connections: CallerConnection[]
  try {
    connections = await openAll(config.connections, config.connections, (index) =>
      client.caller(
        {
          baseUrl: config.baseUrl,
          ...(config.a2aUrl === undefined ? {} : { a2aUrl: config.a2aUrl }),
          clientId: `bench-caller-${index}`,
          capability: config.capability,
          timeoutMs: CONNECT_TIMEOUT_MS,
        },
        {
          onReply: (seq) => answer(seq, true),
          onError(seq, code) {
            errorsByCode[code] = (errorsByCode[code] ?? 0) + 1
            // An error without a request id cannot be matched to a request, so the window would shrink.
            if (seq === undefined || Number.isNaN(seq)) {
              fail(`the server answered with error ${code}`)
              return
            }
            answer(seq, false)
          },
          onClose(code) {
            if (run.phase !== 'done') fail(`the server closed a caller connection with code ${code}`)
          },
        },
      ),
    )
  } catch (error) {
    fail(`caller set-up failed: ${error instanceof Error ? error.message : error}`)
    return
  }

  /** Keeps `window` requests in flight over all connections, taking the connections in turn. */
  function pump(): void {
    while (isSending(run) && sentAt.size < config.window) {
      const seq = nextSeq++
      const t = monotonicMs()
      sentAt.set(seq, t)
      const connection = connections[nextConnection++ % connections.length]
      connection?.request({ seq, t, m: run.phase === 'measure' ? 1 : 0, pad })
    }
    if (run.phase === 'drain' && sentAt.size === 0) finish(true)
  }

  function finish(drained: boolean): void {
    if (run.phase === 'done') return
    run.phase = 'done'
    const result: CallerResult = {
      sent: nextSeq - 1,
      measuredSent: measuredSent(run),
      measuredAnswered,
      measuredMs: run.measureEndedAt - run.measureStartedAt,
      roundTripLatency: roundTripLatency.toPairs(),
      errorsByCode,
      drained,
    }
    send({ type: 'caller-result', result })
  }

  watchForStall(run, 'no answer to any request')

  onCommand((command) => {
    if (command.type !== 'start' || run.phase !== 'idle') return
    runPhases(config, run, () => nextSeq, { pump, finish })
  })

  send({ type: 'ready', connections: connections.length })
}
