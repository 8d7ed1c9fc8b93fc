import type { AgentInstance, DirectTarget, ServerFrame } from '@parley/protocol'
import { BUS_TOPICS } from '../bus/types.js'
import { newId } from '../ids.js'
import { capabilityInfoOf, capabilityNames } from './agent-capabilities.js'
import type {
  AgentAnswerFrame,
  AgentDirectoryOptions,
  RegisteredAgentDirectory,
} from './agent-directory-types.js'
import {
  entryOf,
  type LocalInstance,
  localView,
  type RemoteInstance,
  remoteRoute,
  summarize,
} from './agent-instances.js'
import type { AgentRoute } from './types.js'

export { capabilityInfoOf, capabilityNames, reservedCapabilityProblem } from './agent-capabilities.js'
export type {
  AgentAnswerFrame,
  AgentConnection,
  AgentDirectoryOptions,
  AgentReach,
  IntroductionMode,
  RegisteredAgentDirectory,
} from './agent-directory-types.js'

/** How often a node rewrites its instances in the `agents` group and re-reads the other nodes'. */
export const AGENT_REFRESH_MS = 2_000
const AGENT_TTL_MS = 3 * AGENT_REFRESH_MS
export const AGENTS_GROUP = 'agents'

/** Messages between nodes on `node:<id>` (and `all` for `agent.gone`). */
type AgentBusMessage =
  | { kind: 'agent.frame'; to: string; from: string; frame: ServerFrame }
  | { kind: 'agent.answer'; instanceId: string; frame: AgentAnswerFrame }
  | { kind: 'agent.gone'; instanceId: string }
  | { kind: 'agent.forget'; key: string }

/**
 * Who is registered where, cluster-wide. Local instances are kept here and written to the bus group
 * `agents` (refreshed every `AGENT_REFRESH_MS`); other nodes' instances are read from it. Frames to a remote
 * instance travel as `agent.frame` on its node's topic; the agent's answers come back as `agent.answer`.
 */
export function createAgentDirectory(options: AgentDirectoryOptions): RegisteredAgentDirectory {
  const { bus, logger } = options
  /** When the bus last came back after an outage (see `seesCluster`). */
  let busBackAt = 0
  /** The last directory read failed: this node does not know what the others hold. */
  let directoryUnread = false
  const local = new Map<string, LocalInstance>()
  const instanceByConnection = new Map<string, string>()
  let remote = new Map<string, RemoteInstance>()
  /** Requests and streams this node routed to an instance and that are still open. */
  const routedInFlight = new Map<string, number>()
  /** Keys (correlation or stream ids) of other nodes' callers, handled by a local instance. */
  const origins = new Map<string, { node: string; instanceId: string }>()
  const lastChosen = new Map<string, number>()
  let chooseCounter = 0
  const goneListeners = new Set<(route: AgentRoute) => void>()
  const answerListeners = new Set<(instanceId: string, frame: AgentAnswerFrame) => void>()
  const unsubscribes: (() => void)[] = []
  let timer: NodeJS.Timeout | undefined
  const clustered = () => bus.state() !== 'local'

  function relayedInFlight(instanceId: string): number {
    let count = 0
    for (const origin of origins.values()) if (origin.instanceId === instanceId) count += 1
    return count
  }

  function inFlightOf(instanceId: string): number {
    const here = routedInFlight.get(instanceId) ?? 0
    if (local.has(instanceId)) return here + relayedInFlight(instanceId)
    return Math.max(here, remote.get(instanceId)?.inFlight ?? 0)
  }

  /** Every instance this node knows of, local and remote (as of the last directory read). */
  function currentInstances(): AgentInstance[] {
    const instances: AgentInstance[] = [...local.values()].map((instance) =>
      localView(instance, inFlightOf(instance.route.instanceId)),
    )
    for (const instance of remote.values()) {
      if (local.has(instance.instanceId)) continue
      const { role: _role, introductions: _introductions, ...view } = instance
      instances.push({ ...view, inFlight: inFlightOf(instance.instanceId) })
    }
    return instances
  }

  /** Every active instance, local and remote, with current in-flight counts. */
  function activeRoutes(): AgentRoute[] {
    const routes: AgentRoute[] = []
    for (const instance of local.values()) {
      if (instance.connection === undefined) continue
      routes.push({ ...instance.route, inFlight: inFlightOf(instance.route.instanceId) })
    }
    for (const instance of remote.values()) {
      if (instance.status === 'active' && !local.has(instance.instanceId))
        routes.push(remoteRoute(instance, inFlightOf(instance.instanceId)))
    }
    return routes
  }

  function byLoad(a: AgentRoute, b: AgentRoute): number {
    return (
      a.inFlight - b.inFlight || (lastChosen.get(a.instanceId) ?? 0) - (lastChosen.get(b.instanceId) ?? 0)
    )
  }

  function markChosen(instanceId: string): void {
    chooseCounter += 1
    lastChosen.set(instanceId, chooseCounter)
  }

  function resolve(target: DirectTarget, resolveOptions: { exclude?: ReadonlySet<string> } = {}) {
    const exclude = resolveOptions.exclude
    return activeRoutes()
      .filter((route) =>
        typeof target === 'string'
          ? route.agentId === target
          : route.capabilities.includes(target.capability) &&
            (target.agentId === undefined || route.agentId === target.agentId),
      )
      .filter((route) => exclude === undefined || !exclude.has(route.instanceId))
      .sort(byLoad)
  }

  function writeEntry(instance: LocalInstance): void {
    if (bus.state() !== 'ok') return
    bus
      .putEntry(
        AGENTS_GROUP,
        instance.route.instanceId,
        entryOf(instance, inFlightOf(instance.route.instanceId)),
        AGENT_TTL_MS,
      )
      .catch((error: unknown) => logger.debug({ err: error }, 'agent directory write failed'))
  }

  function removeEntry(instanceId: string): void {
    if (bus.state() !== 'ok') return
    bus
      .removeEntry(AGENTS_GROUP, instanceId)
      .catch((error: unknown) => logger.debug({ err: error }, 'agent directory write failed'))
  }

  function publish(node: string, message: AgentBusMessage): void {
    bus.publish(BUS_TOPICS.node(node), JSON.stringify(message))
  }

  function emitGone(route: AgentRoute): void {
    for (const listener of goneListeners) {
      try {
        listener(route)
      } catch (error) {
        logger.error({ err: error }, 'agent gone listener failed')
      }
    }
  }

  /** A local instance stops being routable: listeners here and on every node learn it. */
  function deactivate(instance: LocalInstance): void {
    instance.lastSeen = instance.connection?.lastSeenAt ?? instance.lastSeen
    instance.connection = undefined
    const { instanceId } = instance.route
    for (const [key, origin] of origins) if (origin.instanceId === instanceId) origins.delete(key)
    if (clustered()) bus.publish(BUS_TOPICS.all, JSON.stringify({ kind: 'agent.gone', instanceId }))
    emitGone(instance.route)
  }

  function drop(instance: LocalInstance): void {
    clearTimeout(instance.removal)
    local.delete(instance.route.instanceId)
    lastChosen.delete(instance.route.instanceId)
    routedInFlight.delete(instance.route.instanceId)
    removeEntry(instance.route.instanceId)
  }

  function receive(payload: string): void {
    let message: AgentBusMessage
    try {
      message = JSON.parse(payload) as AgentBusMessage
    } catch {
      return
    }
    if (typeof message !== 'object' || message === null) return
    switch (message.kind) {
      case 'agent.frame': {
        const instance = local.get(message.to)
        if (instance?.connection === undefined) {
          publish(message.from, { kind: 'agent.gone', instanceId: message.to })
          return
        }
        const { frame } = message
        if (frame.type === 'request_incoming') {
          origins.set(frame.correlationId, { node: message.from, instanceId: message.to })
        } else if (frame.type === 'stream_incoming') {
          origins.set(frame.streamId, { node: message.from, instanceId: message.to })
        } else if ((frame.type === 'stream_abort' || frame.type === 'stream_error') && 'streamId' in frame) {
          origins.delete(frame.streamId)
        }
        instance.connection.sendFrame(frame)
        return
      }
      case 'agent.answer':
        for (const listener of answerListeners) listener(message.instanceId, message.frame)
        return
      case 'agent.gone': {
        const known = remote.get(message.instanceId)
        if (known === undefined || local.has(message.instanceId)) return
        remote.set(message.instanceId, { ...known, status: 'inactive' })
        emitGone(remoteRoute(known, inFlightOf(known.instanceId)))
        return
      }
      case 'agent.forget':
        origins.delete(message.key)
        return
    }
  }

  async function refresh(): Promise<void> {
    if (bus.state() !== 'ok') return
    for (const instance of local.values()) writeEntry(instance)
    let entries: Map<string, string>
    try {
      entries = await bus.entries(AGENTS_GROUP)
    } catch (error) {
      // Redis answers nothing (a link that drops packets leaves the bus `ok`): the same outage for routing.
      directoryUnread = true
      throw error
    }
    if (directoryUnread) {
      directoryUnread = false
      busBackAt = Date.now()
    }
    const next = new Map<string, RemoteInstance>()
    for (const [instanceId, value] of entries) {
      if (local.has(instanceId)) continue
      try {
        const parsed = JSON.parse(value) as RemoteInstance
        if (parsed.node === bus.nodeId) continue
        // An `agent.gone` seen since the last refresh wins over an entry written before it.
        const known = remote.get(instanceId)
        next.set(instanceId, known?.status === 'inactive' ? { ...parsed, status: 'inactive' } : parsed)
      } catch {
        logger.warn({ instanceId }, 'ignored an unreadable agent directory entry')
      }
    }
    for (const instanceId of remote.keys()) {
      if (!next.has(instanceId)) lastChosen.delete(instanceId)
    }
    remote = next
  }

  // After an outage the entries have expired; every node rewrites its own once its bus is back (its reconnect
  // may come up to a backoff step later than this node's) and this node reads them at its next refresh. For
  // that long (an entry TTL plus a refresh period covers it) an active agent may be missing here.
  // (Not at start: there this node reads the directory as it joins, as it always has.)
  let busWasOk = bus.state() === 'ok'
  const stopWatchingBus = bus.onState((state) => {
    if (state !== 'ok') return
    if (busWasOk) busBackAt = Date.now()
    busWasOk = true
  })
  const seesCluster = (): boolean => {
    const state = bus.state()
    if (state === 'local') return true
    return state === 'ok' && !directoryUnread && Date.now() - busBackAt >= AGENT_TTL_MS + AGENT_REFRESH_MS
  }

  return {
    resolve,
    seesCluster,
    choose(target, chooseOptions) {
      const [first] = resolve(target, chooseOptions)
      if (first !== undefined) markChosen(first.instanceId)
      return first
    },
    markChosen,
    all(capability) {
      return activeRoutes()
        .filter((route) => capability === undefined || route.capabilities.includes(capability))
        .sort(byLoad)
    },
    byConnection(connectionId) {
      const instanceId = instanceByConnection.get(connectionId)
      const instance = instanceId === undefined ? undefined : local.get(instanceId)
      return instance?.connection === undefined
        ? undefined
        : { ...instance.route, inFlight: inFlightOf(instance.route.instanceId) }
    },
    deliver(instanceId, frame) {
      const instance = local.get(instanceId)
      if (instance !== undefined) {
        return instance.connection?.isOpen === true && instance.connection.sendFrame(frame)
      }
      const target = remote.get(instanceId)
      if (target === undefined || target.status !== 'active' || bus.state() !== 'ok') return false
      publish(target.node, { kind: 'agent.frame', to: instanceId, from: bus.nodeId, frame })
      return true
    },
    onGone(listener) {
      goneListeners.add(listener)
      return () => goneListeners.delete(listener)
    },

    register(connection, frame, reach) {
      const previousId = instanceByConnection.get(connection.id)
      const previous = previousId === undefined ? undefined : local.get(previousId)
      // The same agent coming back on the same client id replaces its inactive instance.
      for (const instance of [...local.values()]) {
        if (
          instance.connection === undefined &&
          instance.route.agentId === frame.agentId &&
          instance.route.clientId === connection.clientId
        ) {
          drop(instance)
        }
      }
      const keep = previous !== undefined && previous.route.agentId === frame.agentId
      if (previous !== undefined && !keep) {
        deactivate(previous)
        drop(previous)
      }
      const now = Date.now()
      const route: AgentRoute = {
        instanceId: keep ? previous.route.instanceId : newId('agt'),
        agentId: frame.agentId,
        clientId: connection.clientId,
        principal: connection.principal,
        role: connection.role,
        capabilities: capabilityNames(frame.capabilities),
        node: bus.nodeId,
        inFlight: 0,
        introductions: frame.introductions ?? 'ask',
      }
      const instance: LocalInstance = {
        route,
        connection,
        metadata: frame.metadata ?? {},
        capabilityInfo: capabilityInfoOf(frame.capabilities),
        kind: reach?.kind ?? 'websocket',
        url: reach?.url,
        introductions: frame.introductions ?? 'ask',
        connectedAt: keep ? previous.connectedAt : now,
        lastSeen: now,
        removal: undefined,
      }
      local.set(route.instanceId, instance)
      instanceByConnection.set(connection.id, route.instanceId)
      writeEntry(instance)
      return route
    },

    unregister(connection) {
      const instanceId = instanceByConnection.get(connection.id)
      const instance = instanceId === undefined ? undefined : local.get(instanceId)
      instanceByConnection.delete(connection.id)
      if (instance === undefined) return undefined
      deactivate(instance)
      drop(instance)
      return instance.route
    },

    connectionClosed(connection) {
      const instanceId = instanceByConnection.get(connection.id)
      if (instanceId === undefined) return
      instanceByConnection.delete(connection.id)
      const instance = local.get(instanceId)
      if (instance === undefined || instance.connection === undefined) return
      deactivate(instance)
      writeEntry(instance)
      instance.removal = setTimeout(() => {
        if (local.get(instanceId) === instance && instance.connection === undefined) drop(instance)
      }, options.agentTimeoutMs)
      instance.removal.unref()
    },

    acquire(instanceId) {
      routedInFlight.set(instanceId, (routedInFlight.get(instanceId) ?? 0) + 1)
    },
    release(instanceId) {
      const count = (routedInFlight.get(instanceId) ?? 0) - 1
      if (count > 0) routedInFlight.set(instanceId, count)
      else routedInFlight.delete(instanceId)
    },

    introductionsOf(instanceId) {
      return local.get(instanceId)?.introductions ?? remote.get(instanceId)?.introductions
    },

    async summaries(capability, include = () => true) {
      if (bus.state() === 'ok') {
        await refresh().catch((error: unknown) => logger.debug({ err: error }, 'agent directory read failed'))
      }
      return summarize(
        currentInstances().filter(
          (instance) =>
            (capability === undefined || instance.capabilities.includes(capability)) && include(instance),
        ),
      )
    },

    async known(agentId) {
      const find = () => summarize(currentInstances().filter((instance) => instance.agentId === agentId))[0]
      const seen = find()
      if (seen !== undefined || bus.state() !== 'ok') return seen
      await refresh().catch((error: unknown) => logger.debug({ err: error }, 'agent directory read failed'))
      return find()
    },

    activeCount() {
      return activeRoutes().length
    },

    forwardAnswer(connection, key, frame) {
      const origin = origins.get(key)
      const instanceId = instanceByConnection.get(connection.id)
      if (origin === undefined || origin.instanceId !== instanceId) return false
      if (frame.type === 'respond' || frame.type === 'stream_error' || frame.type === 'stream_abort') {
        origins.delete(key)
      }
      publish(origin.node, { kind: 'agent.answer', instanceId, frame })
      return true
    },

    forget(route, key) {
      if (route.node === bus.nodeId || bus.state() !== 'ok') return
      publish(route.node, { kind: 'agent.forget', key })
    },

    onAnswer(listener) {
      answerListeners.add(listener)
      return () => answerListeners.delete(listener)
    },

    refresh,
    clustered,

    start() {
      if (bus.state() === 'local' || timer !== undefined) return
      unsubscribes.push(bus.subscribe(BUS_TOPICS.node(bus.nodeId), receive))
      unsubscribes.push(bus.subscribe(BUS_TOPICS.all, receive))
      const tick = () => {
        refresh().catch((error: unknown) => logger.debug({ err: error }, 'agent directory refresh failed'))
      }
      timer = setInterval(tick, AGENT_REFRESH_MS)
      timer.unref()
      tick()
    },

    async stop() {
      clearInterval(timer)
      timer = undefined
      stopWatchingBus()
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe()
      for (const instance of local.values()) clearTimeout(instance.removal)
      if (bus.state() === 'ok') {
        await Promise.all(
          [...local.keys()].map((instanceId) => bus.removeEntry(AGENTS_GROUP, instanceId).catch(() => {})),
        )
      }
    },
  }
}
