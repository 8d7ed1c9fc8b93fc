import { randomBytes, randomUUID } from 'node:crypto'
import {
  Caller,
  type ErrorBody,
  errorBody,
  type ServerFrame,
  Signal,
  type SignalFrame,
} from '@parley/protocol'
import type { Logger } from 'pino'
import { z } from 'zod'
import { denialError } from '../access/access-gate.js'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import { readBusPayload } from '../bus/bus-payload.js'
import { BUS_TOPICS, type ClusterBus } from '../bus/types.js'
import { BUS_GROUPS } from '../cluster/cluster-node.js'
import { GatewayError } from '../errors.js'
import { sendError } from '../peers/peer.js'
import type { AccessDecision, AccessParty, AgentAccess } from './types.js'

/** How long the sender's node waits for the peer's node to say it handed the signal over. */
export const SIGNAL_RELAY_TIMEOUT_MS = 3_000

/** What signaling needs of a connection (a `Connection` is one). */
export interface SignalParty {
  readonly id: string
  readonly principal: string
  readonly role: string
  readonly clientId: string
  /** The `did:key` identity it answered the challenge with, if it did. */
  readonly agentKeyId: string | undefined
  sendFrame(frame: ServerFrame): boolean
}

export interface SignalingOptions {
  bus: ClusterBus
  logger: Logger
  audit: ConnectionAudit
  access: () => AgentAccess
  /** The open connection of a client id on this node (its latest), if any. */
  connectionFor: (clientId: string) => SignalParty | undefined
  /** The agent id a connection registered as, when it did (the agent directory knows). */
  agentIdOf?: (connectionId: string) => string | undefined
  relayTimeoutMs?: number
}

/** A signal for a peer on another node. */
const RelayedSignal = z.object({
  kind: z.literal('signal'),
  requestId: z.string(),
  replyTo: z.string(),
  caller: Caller,
  target: z.string(),
  signal: Signal,
  traceId: z.string(),
  timestamp: z.number(),
})
type RelayedSignal = z.infer<typeof RelayedSignal>

/** The peer's node answering a relayed signal. */
const RelayOutcome = z.discriminatedUnion('outcome', [
  z.object({ kind: z.literal('signal_result'), requestId: z.string(), outcome: z.literal('delivered') }),
  z.object({ kind: z.literal('signal_result'), requestId: z.string(), outcome: z.literal('no_route') }),
  z.object({
    kind: z.literal('signal_result'),
    requestId: z.string(),
    outcome: z.literal('denied'),
    code: z.enum(['policy_denied', 'introduction_required']),
    rule: z.string().optional(),
    message: z.string(),
  }),
])
type RelayOutcome = z.infer<typeof RelayOutcome>
type RelayAnswer = RelayOutcome extends infer Each
  ? Each extends RelayOutcome
    ? Omit<Each, 'kind' | 'requestId'>
    : never
  : never

type Denied = Extract<AccessDecision, { allowed: false }>

/**
 * Relays WebRTC-style signals (`signal` → `signal_incoming`) to the peer named by client id (an agent's
 * connections use its agent id as client id by default). A peer connected here gets it at once. Otherwise
 * the cluster's client directory (the bus `clients` group, see cluster/cluster-node.ts) names the node that
 * holds it: the signal goes to that node's `signal:<node>` topic, which checks the policies with the peer it
 * knows, hands it over and answers on the sender's node topic. No directory entry, an answer "not here", or
 * no answer in time all mean `no_route`.
 */
export function createSignaling(options: SignalingOptions) {
  const { bus, logger, audit } = options
  const relayTimeoutMs = options.relayTimeoutMs ?? SIGNAL_RELAY_TIMEOUT_MS
  const waiting = new Map<string, (outcome: RelayOutcome | undefined) => void>()
  const unsubscribe =
    bus.state() === 'local' ? undefined : bus.subscribe(BUS_TOPICS.signal(bus.nodeId), received)

  function callerOf(party: SignalParty): Caller {
    const agentId = options.agentIdOf?.(party.id)
    return {
      principal: party.principal,
      role: party.role as Caller['role'],
      clientId: party.clientId,
      ...(agentId === undefined ? {} : { agentId }),
      ...(party.agentKeyId === undefined ? {} : { identity: party.agentKeyId }),
    }
  }

  function accessParty(caller: Caller): AccessParty {
    return {
      principal: caller.principal,
      role: caller.role,
      clientId: caller.clientId,
      ...(caller.agentId === undefined ? {} : { agentId: caller.agentId }),
    }
  }

  /** The policy decision for `caller` signalling the peer connected here; undefined when allowed. */
  function denial(caller: Caller, peer: SignalParty): Denied | undefined {
    const decision = options.access().check({
      action: 'message',
      caller: accessParty(caller),
      target: accessParty(callerOf(peer)),
    })
    return decision.allowed ? undefined : decision
  }

  function incoming(caller: Caller, signal: Signal, traceId: string, timestamp: number): ServerFrame {
    return { type: 'signal_incoming', from: caller, signal, traceId, timestamp }
  }

  function received(payload: string): void {
    const message = readBusPayload(payload)
    if (message === undefined) return
    const { kind } = (message ?? {}) as { kind?: unknown }
    if (kind === 'signal') {
      const parsed = RelayedSignal.safeParse(message)
      if (parsed.success) answerRelayed(parsed.data)
      else logger.warn({ issues: parsed.error.issues.length }, 'ignored an unreadable relayed signal')
    } else if (kind === 'signal_result') {
      const parsed = RelayOutcome.safeParse(message)
      if (parsed.success) waiting.get(parsed.data.requestId)?.(parsed.data)
    }
  }

  /** On the peer's node: check, hand over, answer the sender's node. */
  function answerRelayed(relayed: RelayedSignal): void {
    const answer = (outcome: RelayAnswer) =>
      bus.publish(
        BUS_TOPICS.signal(relayed.replyTo),
        JSON.stringify({ kind: 'signal_result', requestId: relayed.requestId, ...outcome }),
      )
    const peer = options.connectionFor(relayed.target)
    if (peer === undefined) {
      answer({ outcome: 'no_route' })
      return
    }
    const denied = denial(relayed.caller, peer)
    if (denied !== undefined) {
      answer({
        outcome: 'denied',
        code: denied.code,
        message: denied.message,
        ...(denied.rule === undefined ? {} : { rule: denied.rule }),
      })
      return
    }
    const handed = peer.sendFrame(
      incoming(relayed.caller, relayed.signal, relayed.traceId, relayed.timestamp),
    )
    answer({ outcome: handed ? 'delivered' : 'no_route' })
  }

  /** Asks the node holding `target` to hand the signal over; undefined when nobody answered in time. */
  function relay(nodeId: string, message: Omit<RelayedSignal, 'kind' | 'requestId' | 'replyTo'>) {
    const requestId = randomUUID()
    return new Promise<RelayOutcome | undefined>((resolve) => {
      const timer = setTimeout(() => settle(undefined), relayTimeoutMs)
      timer.unref()
      function settle(outcome: RelayOutcome | undefined) {
        clearTimeout(timer)
        waiting.delete(requestId)
        resolve(outcome)
      }
      waiting.set(requestId, settle)
      bus.publish(
        BUS_TOPICS.signal(nodeId),
        JSON.stringify({ kind: 'signal', requestId, replyTo: bus.nodeId, ...message }),
      )
    })
  }

  /** Where the peer is: this node, another node (its id), or nowhere. */
  async function locate(target: string): Promise<SignalParty | string | undefined> {
    const local = options.connectionFor(target)
    if (local !== undefined) return local
    if (bus.state() === 'local') return undefined
    if (bus.state() === 'degraded') {
      throw new GatewayError(
        'unavailable',
        'the cluster bus is unreachable: peers on other nodes cannot be reached now',
      )
    }
    const nodeId = (await bus.entries(BUS_GROUPS.clients)).get(target)
    return nodeId === undefined || nodeId === bus.nodeId ? undefined : nodeId
  }

  function auditRow(
    sender: SignalParty,
    frame: SignalFrame,
    traceId: string,
    outcome: 'ok' | 'denied' | 'error',
    detail: string,
  ): void {
    audit.record({
      kind: 'signal',
      outcome,
      principal: sender.principal,
      clientId: sender.clientId || null,
      connectionId: sender.id,
      target: frame.target,
      detail: `${frame.signal.type}${frame.signal.session === undefined ? '' : ` session ${frame.signal.session}`}: ${detail}`,
      traceId,
    })
  }

  function refuse(sender: SignalParty, frame: SignalFrame, body: ErrorBody): void {
    sendError(sender, body, frame.id)
  }

  function refuseDenied(
    sender: SignalParty,
    frame: SignalFrame,
    traceId: string,
    denied: Pick<Denied, 'code' | 'rule' | 'message'>,
  ): void {
    auditRow(
      sender,
      frame,
      traceId,
      'denied',
      `${denied.code}${denied.rule === undefined ? ' (default effect)' : ` by rule ${denied.rule}`}`,
    )
    refuse(sender, frame, denialError(denied))
  }

  function refuseNoRoute(sender: SignalParty, frame: SignalFrame, traceId: string): void {
    auditRow(sender, frame, traceId, 'error', 'no_route')
    refuse(sender, frame, errorBody('no_route', `no peer "${frame.target}" is online`))
  }

  return {
    /** Answers a `signal`: `{ delivered: true, timestamp }` once the peer's connection has it, else an error. */
    async signal(sender: SignalParty, frame: SignalFrame): Promise<void> {
      // W3C trace-id format: 16 random bytes in hex.
      const traceId = frame.traceId ?? randomBytes(16).toString('hex')
      const timestamp = Date.now()
      const caller = callerOf(sender)
      const where = await locate(frame.target)
      if (where === undefined) {
        refuseNoRoute(sender, frame, traceId)
        return
      }
      if (typeof where !== 'string') {
        const denied = denial(caller, where)
        if (denied !== undefined) {
          refuseDenied(sender, frame, traceId, denied)
          return
        }
        if (!where.sendFrame(incoming(caller, frame.signal, traceId, timestamp))) {
          refuseNoRoute(sender, frame, traceId)
          return
        }
      } else {
        const outcome = await relay(where, {
          caller,
          target: frame.target,
          signal: frame.signal,
          traceId,
          timestamp,
        })
        if (outcome?.outcome === 'denied') {
          refuseDenied(sender, frame, traceId, outcome)
          return
        }
        if (outcome?.outcome !== 'delivered') {
          refuseNoRoute(sender, frame, traceId)
          return
        }
      }
      auditRow(sender, frame, traceId, 'ok', 'delivered')
      sender.sendFrame({ type: 'reply', id: frame.id, result: { delivered: true, timestamp } })
    },

    /** Stops listening for relayed signals; the ones still waiting answer `no_route`. */
    close(): void {
      unsubscribe?.()
      for (const settle of [...waiting.values()]) settle(undefined)
    },
  }
}

export type Signaling = ReturnType<typeof createSignaling>
