import { type ClientFrame, errorBody, type ServerFrame } from '@parley/protocol'
import { type StateStore, StateVersionConflictError } from '@parley/stores'
import type { Logger } from 'pino'
import { decideAccess } from '../access/access-gate.js'
import { allowAllAccess } from '../agents/allow-all-access.js'
import type { AccessAction, AgentAccess } from '../agents/types.js'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { ClusterBus } from '../bus/types.js'
import type { GatewayConfig } from '../config.js'
import { sendError } from '../peers/peer.js'
import { StateFailure, storeFailure } from './state-failure.js'
import { createStateWatches, toEntry } from './state-watches.js'

/** The frames this service answers. */
export type StateFrame = Extract<
  ClientFrame,
  {
    type:
      | 'state_get'
      | 'state_set'
      | 'state_delete'
      | 'state_list'
      | 'state_history'
      | 'state_watch'
      | 'state_unwatch'
  }
>

/** What the service needs of a connection (a `Connection` is one). */
export interface StateCaller {
  readonly id: string
  readonly principal: string
  readonly role: string
  readonly clientId: string
  readonly isOpen: boolean
  sendFrame(frame: ServerFrame): boolean
}

/** Attempts of a `state_delete` without `expectedVersion` against concurrent writers (see `deleteKey`). */
const DELETE_ATTEMPTS = 20

export interface StateServiceOptions {
  config: GatewayConfig['state']
  /** The shared state store; throws `unavailable` until the gateway has opened it. */
  store: () => StateStore
  bus: ClusterBus
  /** Policies; default: allow all. */
  access?: () => AgentAccess
  /** The agent registered on a connection, so policies see its agent id and capabilities. */
  agentOf?: (connectionId: string) => { agentId: string; capabilities: readonly string[] } | undefined
  audit: ConnectionAudit
  logger: Logger
}

/**
 * Shared state over the connection: reads and compare-and-set writes against the store, and watches.
 *
 * Every successful write is published on the bus topic `state:<namespace>` and handed to this node's
 * watchers (see `state-watches.ts`).
 */
export function createStateService(options: StateServiceOptions) {
  const { config, bus, audit, logger } = options
  const access = options.access ?? (() => allowAllAccess)
  const watches = createStateWatches({ config, store: options.store, bus, logger })

  function reply(caller: StateCaller, id: string, result: Record<string, unknown>): void {
    caller.sendFrame({ type: 'reply', id, result })
  }

  function subject(caller: StateCaller) {
    return { principal: caller.principal, clientId: caller.clientId || null, connectionId: caller.id }
  }

  /** Checks the policies; a denial is audited and thrown as the decision's error. */
  function authorize(caller: StateCaller, action: AccessAction, namespace: string, what: string): void {
    const channel = `state:${namespace}`
    const agent = options.agentOf?.(caller.id)
    const answer = decideAccess(
      access(),
      audit,
      {
        action,
        caller: {
          principal: caller.principal,
          role: caller.role,
          clientId: caller.clientId,
          ...(agent === undefined ? {} : { agentId: agent.agentId, capabilities: agent.capabilities }),
        },
        target: { channel },
      },
      { kind: 'state', subject: caller, channel, detailPrefix: what },
    )
    if (!answer.allowed) throw new StateFailure(answer.error)
  }

  function checkValueSize(value: unknown): number {
    const size = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8')
    if (size > config.maxValueBytes) {
      throw new StateFailure(
        errorBody(
          'payload_too_large',
          `the value is ${size} bytes as JSON; state.maxValueBytes is ${config.maxValueBytes}`,
        ),
      )
    }
    return size
  }

  async function get(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_get' }>) {
    authorize(caller, 'subscribe', frame.namespace, 'get')
    const entry = await options.store().get(frame.namespace, frame.key)
    reply(caller, frame.id, { entry: entry === undefined ? null : toEntry(frame.namespace, entry) })
  }

  async function set(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_set' }>) {
    authorize(caller, 'publish', frame.namespace, 'set')
    const size = checkValueSize(frame.value)
    const stored = await options.store().set(frame.namespace, frame.key, frame.value, {
      by: caller.principal,
      ...(frame.expectedVersion === undefined ? {} : { expectedVersion: frame.expectedVersion }),
    })
    const entry = toEntry(frame.namespace, stored)
    reply(caller, frame.id, { entry })
    audit.record({
      kind: 'state',
      outcome: 'ok',
      channel: `state:${frame.namespace}`,
      target: frame.key,
      size,
      detail: `set version ${entry.version}`,
      ...subject(caller),
    })
    watches.written({
      namespace: entry.namespace,
      key: entry.key,
      version: entry.version,
      value: entry.value,
      deleted: false,
      updatedBy: entry.updatedBy,
      updatedAt: entry.updatedAt,
    })
  }

  /**
   * Deletes and learns the version the deletion took. The store answers only whether it deleted, so a
   * delete without `expectedVersion` reads the version and deletes at it, again if another writer came first.
   */
  async function deleteKey(
    namespace: string,
    key: string,
    expectedVersion: number | undefined,
    by: string,
    now: number,
  ): Promise<number | undefined> {
    const store = options.store()
    if (expectedVersion !== undefined) {
      const deleted = await store.delete(namespace, key, { expectedVersion, by, now })
      return deleted ? expectedVersion + 1 : undefined
    }
    for (let attempt = 0; attempt < DELETE_ATTEMPTS; attempt += 1) {
      const current = await store.get(namespace, key)
      if (current === undefined) return undefined
      try {
        await store.delete(namespace, key, { expectedVersion: current.version, by, now })
        return current.version + 1
      } catch (error) {
        if (!(error instanceof StateVersionConflictError)) throw error
      }
    }
    throw new StateFailure(
      errorBody(
        'version_conflict',
        'the key kept changing while it was being deleted; try again',
        undefined,
        {
          currentVersion: (await store.get(namespace, key))?.version ?? 0,
        },
      ),
    )
  }

  async function remove(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_delete' }>) {
    authorize(caller, 'publish', frame.namespace, 'delete')
    const now = Date.now()
    const version = await deleteKey(frame.namespace, frame.key, frame.expectedVersion, caller.principal, now)
    reply(caller, frame.id, version === undefined ? { deleted: false } : { deleted: true, version })
    if (version === undefined) return
    audit.record({
      kind: 'state',
      outcome: 'ok',
      channel: `state:${frame.namespace}`,
      target: frame.key,
      detail: `delete version ${version}`,
      ...subject(caller),
    })
    watches.written({
      namespace: frame.namespace,
      key: frame.key,
      version,
      value: null,
      deleted: true,
      updatedBy: caller.principal,
      updatedAt: now,
    })
  }

  async function list(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_list' }>) {
    authorize(caller, 'subscribe', frame.namespace, 'list')
    const entries = await options.store().list(frame.namespace, {
      ...(frame.after === undefined ? {} : { after: frame.after }),
      ...(frame.limit === undefined ? {} : { limit: frame.limit }),
    })
    reply(caller, frame.id, { entries: entries.map((entry) => toEntry(frame.namespace, entry)) })
  }

  async function history(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_history' }>) {
    authorize(caller, 'subscribe', frame.namespace, 'history')
    const versions = await options.store().history(frame.namespace, frame.key, {
      limit: Math.min(frame.limit ?? config.maxHistoryPerKey, config.maxHistoryPerKey),
    })
    reply(caller, frame.id, { versions })
  }

  async function watch(caller: StateCaller, frame: Extract<StateFrame, { type: 'state_watch' }>) {
    authorize(caller, 'subscribe', frame.namespace, 'watch')
    await watches.watch(caller, frame)
  }

  async function run(caller: StateCaller, frame: StateFrame): Promise<void> {
    switch (frame.type) {
      case 'state_get':
        return get(caller, frame)
      case 'state_set':
        return set(caller, frame)
      case 'state_delete':
        return remove(caller, frame)
      case 'state_list':
        return list(caller, frame)
      case 'state_history':
        return history(caller, frame)
      case 'state_watch':
        return watch(caller, frame)
      case 'state_unwatch':
        return watches.unwatch(caller, frame)
    }
  }

  return {
    /**
     * Answers a state frame. Failures the client caused are answered here with their typed error; the
     * promise rejects only when the store itself failed (the hub answers `unavailable`).
     */
    async handle(caller: StateCaller, frame: StateFrame): Promise<void> {
      try {
        await run(caller, frame)
      } catch (error) {
        const body = storeFailure(error)
        if (body === undefined) throw error
        sendError(caller, body, frame.id)
      }
    },

    /** Drops the connection's watches (it closed). */
    connectionClosed: watches.connectionClosed,

    /** Watches on this node now (metrics, tests). */
    watchCount: watches.watchCount,

    /** Leaves every namespace topic (at stop, before the bus closes). */
    close: watches.close,
  }
}

export type StateService = ReturnType<typeof createStateService>
