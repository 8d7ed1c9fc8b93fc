import type { GrantInfo } from '@parley/protocol'
import {
  evaluatePolicy,
  type Grant,
  type GrantStore,
  grantKey,
  type PolicyDefaultEffect,
  type PolicyRequest,
  type PolicySnapshot,
  type PolicyStore,
} from '@parley/stores'
import type { Logger } from 'pino'
import type { ClusterBus } from '../bus/types.js'
import { newId } from '../ids.js'
import type {
  AccessDecision,
  AccessParty,
  AccessRequest,
  AgentAccess,
  AgentGrants,
  GrantKey,
  GrantParty,
} from './types.js'

/** Bus topic on which a node that changed policies or grants tells the others to reload. */
export const POLICY_RELOAD_TOPIC = 'policies'
/** Where the nodes acknowledge a reload to the node that asked for it. */
export const policyAckTopic = (nodeId: string) => `policies:ack:${nodeId}`
/** How long a change waits for every live node to acknowledge its reload before answering anyway. */
export const RELOAD_ACK_TIMEOUT_MS = 2_000

type ReloadWhat = 'policies' | 'grants'

interface ReloadMessage {
  kind: 'reload'
  what: ReloadWhat
  reloadId: string
  from: string
}

interface AckMessage {
  kind: 'ack'
  reloadId: string
  node: string
}

export interface AgentAccessOptions {
  policies: () => PolicyStore
  grants: () => GrantStore
  bus: ClusterBus
  /** Ids of the nodes alive now (the cluster's node registry), this one included. */
  liveNodes: () => Promise<string[]>
  /** The default effect until the policy store has been read. */
  defaultEffect: PolicyDefaultEffect
  /** Backstop: how often the store's versions are compared with the cached ones. */
  reloadIntervalMs: number
  ackTimeoutMs?: number
  logger: Logger
  now?: () => number
}

/** Access as the gateway uses it: `check` and grants, plus what keeps every node's cache current. */
export interface GatewayAccess extends AgentAccess {
  readonly grants: AgentGrants
  /** Reads policies and grants, starts listening to other nodes' changes and the interval backstop. */
  start(): Promise<void>
  stop(): void
  /** After this node changed the policies: reloads here and on every live node (waits for their acks). */
  policiesChanged(): Promise<void>
  /** Revokes a grant; every node drops it and tells both parties (see `grants.onRevoked`). */
  revokeGrant(id: string, by: string): Promise<GrantInfo | undefined>
  /** The version of the policy snapshot this node decides with. */
  policyVersion(): number
}

/** The protocol's view of a stored grant. */
export function grantInfo(grant: Grant): GrantInfo {
  return {
    id: grant.id,
    from: { ...grant.from },
    to: { ...grant.to },
    reason: grant.reason,
    createdAt: new Date(grant.createdAt).toISOString(),
    revokedAt: grant.revokedAt === null ? null : new Date(grant.revokedAt).toISOString(),
  }
}

/** Denials are audited and refused by the one access module; re-exported for existing importers. */
export { denialDetail } from '../access/access-gate.js'

const pairKey = (a: GrantKey, b: GrantKey) => `${a}\u0000${b}`

/** The key a party is linked by in grants: its agent id when it is an agent, else its client id. */
export function accessKey(party: AccessParty): GrantKey | undefined {
  return party.agentId ?? party.clientId
}

function describeTarget(target: AccessRequest['target']): string {
  if ('channel' in target) return `channel ${target.channel}`
  return target.agentId ?? target.clientId ?? target.principal
}

function policyRequest(request: AccessRequest): PolicyRequest {
  const { caller, target } = request
  const subject: PolicyRequest['subject'] = { principal: caller.principal }
  if (caller.role !== undefined) subject.role = caller.role
  if (caller.capabilities !== undefined) subject.capabilities = caller.capabilities
  if ('channel' in target) return { action: request.action, subject, target: { channel: target.channel } }
  const policyTarget: PolicyRequest['target'] = { principal: target.principal }
  if (target.capabilities !== undefined) policyTarget.capabilities = target.capabilities
  return { action: request.action, subject, target: policyTarget }
}

/**
 * Policies and grants as this node sees them. `check` is synchronous: it reads the cached policy snapshot
 * and live grants. A node that changes either reloads its cache, publishes `reload` on the bus and waits
 * (up to `ackTimeoutMs`) until every live node acknowledged having reloaded, so the change applies from
 * the next frame on every node; an interval comparing the store's versions repairs a lost bus message.
 */
export function createAgentAccess(options: AgentAccessOptions): GatewayAccess {
  const { bus, logger } = options
  const now = options.now ?? Date.now
  const ackTimeoutMs = options.ackTimeoutMs ?? RELOAD_ACK_TIMEOUT_MS
  let snapshot: PolicySnapshot = { version: -1, defaultEffect: options.defaultEffect, rules: [] }
  /** Live grants by id, and the newest live grant per ordered pair of keys (both orders stored). */
  let liveGrants = new Map<string, GrantInfo>()
  let grantsByPair = new Map<string, GrantInfo>()
  let grantVersion = -1
  const revokedListeners = new Set<(grant: GrantInfo) => void>()
  const pendingAcks = new Map<string, { waiting: Set<string>; done: () => void }>()
  const unsubscribes: (() => void)[] = []
  let timer: NodeJS.Timeout | undefined
  // Reloads of one kind run one after the other, so an older read never replaces a newer one.
  let policyReload: Promise<void> = Promise.resolve()
  let grantReload: Promise<void> = Promise.resolve()

  function reloadPolicies(): Promise<void> {
    policyReload = policyReload
      .catch(() => {})
      .then(async () => {
        const next = await options.policies().snapshot()
        if (next.version >= snapshot.version) snapshot = next
      })
    return policyReload
  }

  function reloadGrants(): Promise<void> {
    grantReload = grantReload
      .catch(() => {})
      .then(async () => {
        const store = options.grants()
        const version = await store.version()
        const grants = (await store.list()).map(grantInfo)
        const nextLive = new Map(grants.map((grant) => [grant.id, grant]))
        const nextPairs = new Map<string, GrantInfo>()
        // Newest first: the first grant seen for a pair is the newest.
        for (const grant of grants) {
          const from = grantKey(grant.from)
          const to = grantKey(grant.to)
          if (!nextPairs.has(pairKey(from, to))) nextPairs.set(pairKey(from, to), grant)
          if (!nextPairs.has(pairKey(to, from))) nextPairs.set(pairKey(to, from), grant)
        }
        const gone = [...liveGrants.keys()].filter((id) => !nextLive.has(id))
        liveGrants = nextLive
        grantsByPair = nextPairs
        grantVersion = version
        for (const id of gone) {
          const revoked = await store.get(id)
          if (revoked !== undefined) emitRevoked(grantInfo(revoked))
        }
      })
    return grantReload
  }

  function emitRevoked(grant: GrantInfo): void {
    for (const listener of revokedListeners) {
      try {
        listener(grant)
      } catch (error) {
        logger.warn({ err: error, grantId: grant.id }, 'grant revocation listener failed')
      }
    }
  }

  const reload = (what: ReloadWhat) => (what === 'policies' ? reloadPolicies() : reloadGrants())

  /** Reloads here, then asks every other live node to reload and waits for their acks (bounded). */
  async function changed(what: ReloadWhat): Promise<void> {
    await reload(what)
    if (bus.state() !== 'ok') return
    let others: string[]
    try {
      others = (await options.liveNodes()).filter((id) => id !== bus.nodeId)
    } catch (error) {
      logger.warn({ err: error }, 'node registry read failed; not waiting for reload acks')
      others = []
    }
    const reloadId = newId('rld')
    const acknowledged = new Promise<void>((resolve) => {
      if (others.length === 0) {
        resolve()
        return
      }
      const timeout = setTimeout(() => {
        const pending = pendingAcks.get(reloadId)
        pendingAcks.delete(reloadId)
        logger.warn(
          { what, missing: [...(pending?.waiting ?? [])] },
          'nodes did not acknowledge a reload in time',
        )
        resolve()
      }, ackTimeoutMs)
      timeout.unref()
      pendingAcks.set(reloadId, {
        waiting: new Set(others),
        done: () => {
          clearTimeout(timeout)
          pendingAcks.delete(reloadId)
          resolve()
        },
      })
    })
    const message: ReloadMessage = { kind: 'reload', what, reloadId, from: bus.nodeId }
    bus.publish(POLICY_RELOAD_TOPIC, JSON.stringify(message))
    await acknowledged
  }

  function received(payload: string): void {
    let message: Partial<ReloadMessage>
    try {
      message = JSON.parse(payload) as Partial<ReloadMessage>
    } catch {
      return
    }
    const { what, reloadId, from } = message
    if (message.kind !== 'reload' || (what !== 'policies' && what !== 'grants')) return
    if (typeof reloadId !== 'string' || typeof from !== 'string') return
    reload(what).then(
      () => {
        const ack: AckMessage = { kind: 'ack', reloadId, node: bus.nodeId }
        bus.publish(policyAckTopic(from), JSON.stringify(ack))
      },
      (error: unknown) => logger.error({ err: error, what }, 'reload asked by another node failed'),
    )
  }

  function acked(payload: string): void {
    let message: Partial<AckMessage>
    try {
      message = JSON.parse(payload) as Partial<AckMessage>
    } catch {
      return
    }
    if (message.kind !== 'ack' || typeof message.reloadId !== 'string' || typeof message.node !== 'string')
      return
    const pending = pendingAcks.get(message.reloadId)
    if (pending === undefined) return
    pending.waiting.delete(message.node)
    if (pending.waiting.size === 0) pending.done()
  }

  async function backstop(): Promise<void> {
    const [policyVersion, grantsVersion] = await Promise.all([
      options.policies().version(),
      options.grants().version(),
    ])
    if (policyVersion !== snapshot.version) await reloadPolicies()
    if (grantsVersion !== grantVersion) await reloadGrants()
  }

  function check(request: AccessRequest): AccessDecision {
    const decision = evaluatePolicy(snapshot.rules, snapshot.defaultEffect, policyRequest(request))
    const rule = decision.rule?.id
    const target = describeTarget(request.target)
    switch (decision.effect) {
      case 'allow':
        return rule === undefined
          ? { allowed: true, effect: 'default' }
          : { allowed: true, effect: 'allow', rule }
      case 'deny':
        return {
          allowed: false,
          code: 'policy_denied',
          ...(rule === undefined ? {} : { rule }),
          message:
            rule === undefined
              ? `${request.caller.principal} may not ${request.action} ${target}: the default policy denies it`
              : `${request.caller.principal} may not ${request.action} ${target}: policy rule ${rule} denies it`,
        }
      case 'require_introduction': {
        const callerKey = accessKey(request.caller)
        const targetKey = 'channel' in request.target ? undefined : accessKey(request.target)
        const grant =
          callerKey === undefined || targetKey === undefined ? undefined : between(callerKey, targetKey)
        if (grant !== undefined)
          return { allowed: true, effect: 'require_introduction', rule, grantId: grant.id }
        return {
          allowed: false,
          code: 'introduction_required',
          rule,
          message: `${request.caller.principal} must be introduced to ${target} first (policy rule ${rule})`,
        }
      }
    }
  }

  function between(a: GrantKey, b: GrantKey): GrantInfo | undefined {
    return grantsByPair.get(pairKey(a, b))
  }

  const grants: AgentGrants = {
    async create(from: GrantParty, to: GrantParty, reason: string | undefined) {
      const grant = await options.grants().create({ from, to, reason: reason ?? null }, now())
      await changed('grants')
      return grantInfo(grant)
    },
    between,
    onRevoked(listener) {
      revokedListeners.add(listener)
      return () => revokedListeners.delete(listener)
    },
  }

  return {
    check,
    grants,

    async start() {
      await Promise.all([reloadPolicies(), reloadGrants()])
      unsubscribes.push(bus.subscribe(POLICY_RELOAD_TOPIC, received))
      unsubscribes.push(bus.subscribe(policyAckTopic(bus.nodeId), acked))
      timer = setInterval(() => {
        backstop().catch((error: unknown) => logger.warn({ err: error }, 'policy reload check failed'))
      }, options.reloadIntervalMs)
      timer.unref()
    },

    stop() {
      clearInterval(timer)
      timer = undefined
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe()
      for (const pending of pendingAcks.values()) pending.done()
    },

    policiesChanged: () => changed('policies'),

    async revokeGrant(id, by) {
      const revoked = await options.grants().revoke(id, by, now())
      if (revoked === undefined) return undefined
      await changed('grants')
      return grantInfo(revoked)
    },

    policyVersion: () => snapshot.version,
  }
}
