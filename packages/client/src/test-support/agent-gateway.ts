import type { ClientFrame } from '@parley/protocol'
import { afterEach } from 'vitest'
import { AgentCaller, type AgentCallerOptions } from '../agent-caller.js'
import { AgentClient, type AgentClientOptions } from '../agent-client.js'
import type { ScriptedConnection, ScriptedServer, ScriptedServerOptions } from './scripted-server.js'
import { ScriptedServer as Server } from './scripted-server.js'

type Frame<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>

interface StoredVersion {
  version: number
  value: unknown
  deleted: boolean
  updatedAt: number
  updatedBy: string
}

/**
 * The agent frames of a scripted gateway, as docs/protocol.md describes them, for client tests: registration
 * (recorded, refusable), shared state (versions, compare-and-set, watches pushing `state_change`). Every other
 * agent frame goes to the test's `onFrame` (return true when answered).
 */
export class AgentGateway {
  /** Every `agent_register` received, in order. */
  readonly registrations: Array<{ connection: ScriptedConnection; frame: Frame<'agent_register'> }> = []
  /** Agent ids unregistered with `agent_unregister`. */
  readonly unregistered: string[] = []
  /** When set, registrations are answered with this error code. */
  refuseRegistration: 'forbidden' | 'bad_request' | undefined
  /** Versions per `namespace\0key`, oldest first. */
  readonly state = new Map<string, StoredVersion[]>()
  /** Writes that fail with `version_conflict` before being looked at, for CAS retry tests. */
  forcedConflicts = 0
  private instanceSeq = 0

  constructor(readonly server: ScriptedServer) {}

  handle(connection: ScriptedConnection, frame: ClientFrame): boolean {
    switch (frame.type) {
      case 'agent_register': {
        this.registrations.push({ connection, frame })
        if (this.refuseRegistration !== undefined) {
          connection.send({
            type: 'error',
            id: frame.id,
            code: this.refuseRegistration,
            message: 'registration refused',
            retryable: false,
          })
          return true
        }
        this.instanceSeq += 1
        const result = {
          agentId: frame.agentId,
          instanceId: `inst-${this.instanceSeq}`,
          capabilities: frame.capabilities,
        }
        connection.send({ type: 'reply', id: frame.id, result })
        return true
      }
      case 'agent_unregister': {
        const last = [...this.registrations]
          .reverse()
          .find((registration) => registration.connection === connection)
        if (last === undefined) {
          connection.send({
            type: 'error',
            id: frame.id,
            code: 'invalid_state',
            message: 'not an agent',
            retryable: false,
          })
          return true
        }
        this.registrations.splice(this.registrations.indexOf(last), 1)
        this.unregistered.push(last.frame.agentId)
        connection.send({ type: 'reply', id: frame.id, result: { agentId: last.frame.agentId } })
        return true
      }
      case 'state_get': {
        connection.send({
          type: 'reply',
          id: frame.id,
          result: { entry: this.entry(frame.namespace, frame.key) },
        })
        return true
      }
      case 'state_set':
      case 'state_delete': {
        const versions = this.versions(frame.namespace, frame.key)
        const last = versions.at(-1)
        const current = last === undefined || last.deleted ? 0 : last.version
        if (
          this.forcedConflicts > 0 ||
          (frame.expectedVersion !== undefined && frame.expectedVersion !== current)
        ) {
          if (this.forcedConflicts > 0) this.forcedConflicts -= 1
          connection.send({
            type: 'error',
            id: frame.id,
            code: 'version_conflict',
            message: `the key is at version ${current}`,
            retryable: false,
            details: { currentVersion: current },
          })
          return true
        }
        if (frame.type === 'state_delete' && current === 0) {
          connection.send({ type: 'reply', id: frame.id, result: { deleted: false } })
          return true
        }
        const stored = this.write(
          frame.namespace,
          frame.key,
          frame.type === 'state_set' ? frame.value : null,
          frame.type === 'state_delete',
          connection.clientId ?? 'unknown',
        )
        connection.send({
          type: 'reply',
          id: frame.id,
          result:
            frame.type === 'state_set'
              ? { entry: this.entry(frame.namespace, frame.key) }
              : { deleted: true, version: stored.version },
        })
        return true
      }
      case 'state_list': {
        const entries = [...this.state.keys()]
          .map((id) => id.split('\u0000') as [string, string])
          .filter(
            ([namespace, key]) =>
              namespace === frame.namespace && (frame.after === undefined || key > frame.after),
          )
          .map(([namespace, key]) => this.entry(namespace, key))
          .filter((entry) => entry !== null)
        connection.send({ type: 'reply', id: frame.id, result: { entries } })
        return true
      }
      case 'state_history': {
        const versions = [...this.versions(frame.namespace, frame.key)].reverse()
        connection.send({ type: 'reply', id: frame.id, result: { versions } })
        return true
      }
      case 'state_watch': {
        const watches = this.watchesOf(connection)
        watches.add(watchId(frame.namespace, frame.key))
        const keys =
          frame.key === undefined
            ? [...this.state.keys()]
                .filter((id) => id.startsWith(`${frame.namespace}\u0000`))
                .map((id) => id.split('\u0000')[1] as string)
            : [frame.key]
        const entries = keys.map((key) => this.entry(frame.namespace, key)).filter((entry) => entry !== null)
        connection.send({
          type: 'reply',
          id: frame.id,
          result: {
            namespace: frame.namespace,
            ...(frame.key === undefined ? {} : { key: frame.key }),
            entries,
          },
        })
        return true
      }
      case 'state_unwatch': {
        this.watchesOf(connection).delete(watchId(frame.namespace, frame.key))
        connection.send({
          type: 'reply',
          id: frame.id,
          result: { namespace: frame.namespace, ...(frame.key === undefined ? {} : { key: frame.key }) },
        })
        return true
      }
      default:
        return this.route(connection, frame)
    }
  }

  /**
   * A minimal router between registered agents and callers on this server: `request` → `request_incoming` →
   * `respond` → `reply` / `agent_error`, and streams relayed both ways with the credit checked (a chunk beyond
   * the receiver's credit is counted in `creditViolations`). Only when `routing` is on.
   */
  routing = false
  /** Chunks a sender sent beyond the credit the receiver granted. */
  creditViolations = 0
  private readonly requests = new Map<
    string,
    { caller: ScriptedConnection; requestId: string; agentId: string }
  >()
  private readonly streams = new Map<
    string,
    { opener: ScriptedConnection; agent: ScriptedConnection; creditToAgent: number; creditToOpener: number }
  >()
  private routeSeq = 0

  private route(connection: ScriptedConnection, frame: ClientFrame): boolean {
    if (!this.routing) return false
    switch (frame.type) {
      case 'request':
      case 'stream_open': {
        const target = frame.target
        const found = [...this.registrations]
          .reverse()
          .find(
            ({ connection: agent, frame: registration }) =>
              this.server.welcomed().includes(agent) &&
              (typeof target === 'string'
                ? registration.agentId === target
                : registration.capabilities.includes(target.capability)),
          )
        if (found === undefined) {
          connection.send({
            type: 'error',
            id: frame.id,
            code: 'no_route',
            message: 'no agent',
            retryable: false,
          })
          return true
        }
        this.routeSeq += 1
        const from = {
          principal: connection.clientId ?? 'unknown',
          role: 'client',
          clientId: connection.clientId ?? 'unknown',
        }
        const capability = typeof target === 'string' ? {} : { capability: target.capability }
        if (frame.type === 'request') {
          const correlationId = `req_${this.routeSeq}`
          this.requests.set(correlationId, {
            caller: connection,
            requestId: frame.id,
            agentId: found.frame.agentId,
          })
          found.connection.send({
            type: 'request_incoming',
            correlationId,
            from,
            data: frame.data,
            deadline: Date.now() + (frame.timeoutMs ?? 30_000),
            attempt: 1,
            idempotent: frame.idempotent === true,
            traceId: frame.traceId ?? `trace_${this.routeSeq}`,
            ...capability,
          })
          return true
        }
        const streamId = `str_${this.routeSeq}`
        const credit = frame.credit ?? 16
        this.streams.set(streamId, {
          opener: connection,
          agent: found.connection,
          creditToAgent: credit,
          creditToOpener: 0,
        })
        connection.send({
          type: 'reply',
          id: frame.id,
          result: {
            streamId,
            agentId: found.frame.agentId,
            instanceId: 'inst-r',
            traceId: `trace_${this.routeSeq}`,
          },
        })
        found.connection.send({
          type: 'stream_incoming',
          streamId,
          from,
          data: frame.data,
          credit,
          traceId: `trace_${this.routeSeq}`,
          ...capability,
        })
        return true
      }
      case 'respond': {
        const pending = this.requests.get(frame.correlationId)
        if (pending === undefined) return true
        this.requests.delete(frame.correlationId)
        if (frame.error !== undefined) {
          pending.caller.send({
            type: 'error',
            id: pending.requestId,
            code: 'agent_error',
            message: frame.error.message,
            retryable: false,
            details: { ...frame.error },
          })
          return true
        }
        pending.caller.send({
          type: 'reply',
          id: pending.requestId,
          result: {
            correlationId: frame.correlationId,
            data: frame.data,
            agentId: pending.agentId,
            instanceId: 'inst-r',
            latencyMs: 1,
            attempts: 1,
            traceId: 'trace',
          },
        })
        return true
      }
      case 'stream_chunk':
      case 'stream_credit':
      case 'stream_end':
      case 'stream_error':
      case 'stream_abort': {
        const stream = this.streams.get(frame.streamId)
        if (stream === undefined) return true
        const fromAgent = connection === stream.agent
        const other = fromAgent ? stream.opener : stream.agent
        if (frame.type === 'stream_chunk') {
          if (fromAgent) {
            if (stream.creditToAgent <= 0) this.creditViolations += 1
            stream.creditToAgent -= 1
          } else {
            if (stream.creditToOpener <= 0) this.creditViolations += 1
            stream.creditToOpener -= 1
          }
        }
        if (frame.type === 'stream_credit') {
          if (fromAgent) stream.creditToOpener += frame.credit
          else stream.creditToAgent += frame.credit
        }
        if (frame.type === 'stream_error' || frame.type === 'stream_abort')
          this.streams.delete(frame.streamId)
        other.send(frame)
        return true
      }
      default:
        return false
    }
  }

  /** Writes a version as another party would (pushed to watchers). */
  write(namespace: string, key: string, value: unknown, deleted: boolean, updatedBy: string): StoredVersion {
    const versions = this.versions(namespace, key)
    const stored: StoredVersion = {
      version: (versions.at(-1)?.version ?? 0) + 1,
      value: deleted ? null : value,
      deleted,
      updatedAt: Date.now(),
      updatedBy,
    }
    versions.push(stored)
    for (const connection of this.server.welcomed()) {
      const watches = WATCHES.get(connection)
      if (watches === undefined) continue
      if (!watches.has(watchId(namespace, key)) && !watches.has(watchId(namespace, undefined))) continue
      connection.send({ type: 'state_change', namespace, key, ...stored })
    }
    return stored
  }

  private versions(namespace: string, key: string): StoredVersion[] {
    const id = `${namespace}\u0000${key}`
    let versions = this.state.get(id)
    if (versions === undefined) {
      versions = []
      this.state.set(id, versions)
    }
    return versions
  }

  private entry(namespace: string, key: string): Record<string, unknown> | null {
    const last = this.state.get(`${namespace}\u0000${key}`)?.at(-1)
    if (last === undefined || last.deleted) return null
    return {
      namespace,
      key,
      value: last.value,
      version: last.version,
      updatedAt: last.updatedAt,
      updatedBy: last.updatedBy,
    }
  }

  private watchesOf(connection: ScriptedConnection): Set<string> {
    let watches = WATCHES.get(connection)
    if (watches === undefined) {
      watches = new Set()
      WATCHES.set(connection, watches)
    }
    return watches
  }
}

const WATCHES = new WeakMap<ScriptedConnection, Set<string>>()

function watchId(namespace: string, key: string | undefined): string {
  return key === undefined ? `${namespace}\u0000*` : `${namespace}\u0000=${key}`
}

/** Servers with the agent frames above and agent clients, torn down after each test. */
export function useAgentFixtures(): {
  gateway(
    options?: ScriptedServerOptions & {
      onFrame?: (connection: ScriptedConnection, frame: ClientFrame) => boolean
    },
  ): Promise<AgentGateway>
  agent(url: string, options: AgentClientOptions): AgentClient
  caller(url: string, options?: AgentCallerOptions): AgentCaller
} {
  const servers: ScriptedServer[] = []
  const clients: AgentCaller[] = []
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()))
    await Promise.all(servers.splice(0).map((server) => server.stop()))
  })
  return {
    async gateway(options = {}) {
      const { onFrame, ...serverOptions } = options
      let gateway: AgentGateway | undefined
      const server = await Server.start({
        ...serverOptions,
        onRequest(connection, frame) {
          if (onFrame?.(connection, frame)) return true
          return gateway?.handle(connection, frame) ?? false
        },
      })
      gateway = new AgentGateway(server)
      servers.push(server)
      return gateway
    },
    agent(url, options) {
      const client = new AgentClient(url, { reconnect: { initialDelayMs: 20, maxDelayMs: 50 }, ...options })
      clients.push(client)
      return client
    },
    caller(url, options = {}) {
      const client = new AgentCaller(url, { reconnect: { initialDelayMs: 20, maxDelayMs: 50 }, ...options })
      clients.push(client)
      return client
    },
  }
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitUntil(check: () => boolean, timeoutMs = 2_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Resolves with the next `event` of an agent client. */
export function nextAgentEvent<T>(
  client: AgentCaller,
  event: 'connected' | 'grant_revoked' | 'signal' | 'registered' | 'error' | 'connect',
  timeoutMs = 2_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (payload: unknown): void => {
      clearTimeout(timer)
      client.off(event, listener)
      resolve(payload as T)
    }
    const timer = setTimeout(() => {
      client.off(event, listener)
      reject(new Error(`no "${event}" event within ${timeoutMs} ms`))
    }, timeoutMs)
    client.on(event, listener)
  })
}
