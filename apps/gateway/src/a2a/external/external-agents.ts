import { type Client, ClientFactory, JsonRpcTransportFactory, RestTransportFactory } from '@a2a-js/sdk/client'
import type {
  A2aAgentInfo,
  AddA2aAgentRequest,
  CapabilitySpec,
  UpstreamCredentials,
  UpstreamHealth,
} from '@parley/protocol'
import type { UpstreamRecord } from '@parley/stores'
import type { Logger } from 'pino'
import type { AgentLayer } from '../../agents/agent-layer.js'
import { type HostedAgent, HostedAgentUnavailable, hostAgent } from '../../agents/hosted-agent.js'
import { GatewayError } from '../../errors.js'
import {
  fetchWithCredentials,
  openCredentials,
  sealCredentials,
} from '../../upstreams/upstream-credentials.js'
import type { Upstreams } from '../../upstreams/upstreams.js'
import { externalCalls, markingUnreachable } from './external-calls.js'
import { CardFetchError, cardUrlOf, fetchAgentCard, reasonOf } from './external-card.js'
import { capabilitiesOfCard } from './external-skills.js'

export interface ExternalAgentsOptions {
  upstreams: Upstreams
  agents: Pick<AgentLayer, 'registerHosted' | 'unregisterHosted' | 'answerFrom'>
  /** This node: part of each hosted instance's client id (every node hosts its own instances). */
  nodeId: string
  refreshIntervalMs: number
  fetchTimeoutMs: number
  logger: Logger
  now?: () => number
}

export interface ExternalAgents {
  /** Stores the agent (its credentials sealed) and waits for this node's first fetch of its cards. */
  add(request: AddA2aAgentRequest): Promise<A2aAgentInfo>
  /** False when there is no such external agent. */
  remove(agentId: string): Promise<boolean>
  /** Fetches every card of the agent now; undefined when there is no such external agent. */
  refresh(agentId: string): Promise<A2aAgentInfo | undefined>
  list(): A2aAgentInfo[]
  start(): void
  stop(): void
}

interface Instance {
  url: string
  cardUrl: string
  index: number
  state: UpstreamHealth['state']
  lastFetchAt: number | null
  lastError: string | null
  client: Client | undefined
  /** What the hosted instance was registered with: re-hosted when the card changes it. */
  registeredAs: string | undefined
  hosted: HostedAgent | undefined
  fetching: Promise<void> | undefined
}

interface ExternalAgent {
  record: UpstreamRecord
  credentials: UpstreamCredentials | undefined
  /** Set when the stored credentials do not open on this node: nothing is called without them. */
  credentialsProblem: string | undefined
  name: string | null
  description: string | null
  capabilities: string[]
  signatureVerified: boolean | null
  instances: Instance[]
  /** The capabilities of the last good card: what the stand-in registers. */
  specs: CapabilitySpec[] | undefined
  /**
   * While no instance is up (and a card was read once): an instance that answers every call `agent_unavailable`,
   * so callers of a known but unreachable agent learn that rather than `no_route`.
   */
  standIn: HostedAgent | undefined
  closed: boolean
}

/** An agent id made from a card's name: characters outside the id alphabet become `-`. */
function agentIdOfName(name: string): string {
  return name
    .trim()
    .replace(/[^A-Za-z0-9_\-.:@]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 128)
}

/**
 * The external A2A agents of this node: every registered URL is fetched (card, signature), and each good one is
 * hosted as an instance (`hostAgent`, kind `a2a`, principal `a2a:<agentId>`, the card's skills as capabilities)
 * that calls the agent with the SDK client. Every node hosts its own instances, so each survives alone. Cards are
 * fetched again every `refreshIntervalMs`; an instance that fails (card fetch, or a call that cannot reach it)
 * is down (not hosted) until a later fetch succeeds.
 */
export function createExternalAgents(options: ExternalAgentsOptions): ExternalAgents {
  const { upstreams, logger } = options
  const now = options.now ?? Date.now
  const agents = new Map<string, ExternalAgent>()
  let timer: NodeJS.Timeout | undefined
  let unwatch: (() => void) | undefined

  function info(agent: ExternalAgent): A2aAgentInfo {
    return {
      agentId: agent.record.id,
      name: agent.name,
      description: agent.description,
      capabilities: [...agent.capabilities],
      instances: agent.instances.map((instance) => ({
        url: instance.cardUrl,
        state: instance.state,
        lastFetchAt: instance.lastFetchAt === null ? null : new Date(instance.lastFetchAt).toISOString(),
        lastError: instance.lastError,
      })),
      signatureVerified: agent.signatureVerified,
      credentials: agent.record.credentialsKind,
      createdAt: new Date(agent.record.createdAt).toISOString(),
    }
  }

  function unhost(instance: Instance): void {
    instance.hosted?.close()
    instance.hosted = undefined
    instance.registeredAs = undefined
  }

  function markDown(agent: ExternalAgent, instance: Instance, reason: string): void {
    if (instance.state !== 'down' || instance.lastError !== reason) {
      logger.warn({ agentId: agent.record.id, url: instance.cardUrl, reason }, 'external A2A instance down')
    }
    instance.state = 'down'
    instance.lastError = reason
    // The stand-in first: calls handed back by the closing instance find it.
    updateStandIn(agent)
    unhost(instance)
  }

  function updateStandIn(agent: ExternalAgent): void {
    const needed =
      !agent.closed &&
      agent.specs !== undefined &&
      agent.instances.every((instance) => instance.hosted === undefined || instance.state === 'down')
    if (!needed) {
      agent.standIn?.close()
      agent.standIn = undefined
      return
    }
    if (agent.standIn !== undefined) return
    const agentId = agent.record.id
    const unavailable = async (): Promise<never> => {
      const reasons = [
        ...new Set(agent.instances.map((instance) => instance.lastError).filter((e) => e !== null)),
      ]
      throw new HostedAgentUnavailable(
        `${agentId} is unreachable: ${reasons.join('; ') || 'every instance is down'}`,
      )
    }
    agent.standIn = hostAgent(
      options.agents,
      {
        agentId,
        clientId: `${agentId}#down@${options.nodeId}`,
        principal: `a2a:${agentId}`,
        capabilities: agent.specs ?? [],
        metadata: { unreachable: true },
        reach: { kind: 'a2a', url: agent.instances[0]?.cardUrl ?? '' },
      },
      { request: unavailable, stream: unavailable },
    )
  }

  function host(agent: ExternalAgent, instance: Instance, capabilities: CapabilitySpec[]): void {
    const registeredAs = JSON.stringify([capabilities, agent.name, agent.description])
    if (instance.hosted !== undefined && instance.registeredAs === registeredAs) return
    unhost(instance)
    const agentId = agent.record.id
    instance.hosted = hostAgent(
      options.agents,
      {
        agentId,
        clientId: `${agentId}#${instance.index + 1}@${options.nodeId}`,
        principal: `a2a:${agentId}`,
        capabilities,
        metadata: {
          ...(agent.name === null ? {} : { name: agent.name }),
          ...(agent.description === null ? {} : { description: agent.description }),
        },
        reach: { kind: 'a2a', url: instance.cardUrl },
      },
      externalCalls({
        client: () => {
          if (instance.client === undefined) throw new Error('the instance has no client')
          return instance.client
        },
        unreachable: (reason) => markDown(agent, instance, reason),
      }),
    )
    instance.registeredAs = registeredAs
  }

  async function fetchInstance(agent: ExternalAgent, instance: Instance): Promise<void> {
    if (agent.credentialsProblem !== undefined) {
      markDown(agent, instance, agent.credentialsProblem)
      return
    }
    const fetchImpl = fetchWithCredentials(agent.credentials)
    try {
      const fetched = await fetchAgentCard(instance.cardUrl, { fetchImpl, timeoutMs: options.fetchTimeoutMs })
      const callFetch = markingUnreachable(fetchImpl)
      const client = await new ClientFactory({
        transports: [
          new JsonRpcTransportFactory({ fetchImpl: callFetch, legacyCompat: { enabled: true } }),
          new RestTransportFactory({ fetchImpl: callFetch, legacyCompat: { enabled: true } }),
        ],
      }).createFromAgentCard(fetched.card)
      if (agent.closed) return
      const capabilities = capabilitiesOfCard(fetched.card)
      agent.name = fetched.card.name
      agent.description = fetched.card.description || null
      agent.capabilities = capabilities.map((spec) => (typeof spec === 'string' ? spec : spec.name))
      agent.signatureVerified = fetched.signatureVerified
      instance.client = client
      agent.specs = capabilities
      host(agent, instance, capabilities)
      if (instance.state !== 'up') {
        logger.info(
          { agentId: agent.record.id, url: instance.cardUrl, signatureVerified: fetched.signatureVerified },
          'external A2A instance up',
        )
      }
      instance.state = 'up'
      instance.lastFetchAt = now()
      instance.lastError = null
      updateStandIn(agent)
    } catch (error) {
      if (agent.closed) return
      if (error instanceof CardFetchError && error.badSignature) agent.signatureVerified = false
      markDown(agent, instance, reasonOf(error))
    }
  }

  /** One fetch per instance at a time: a refresh during a fetch waits for that one. */
  function fetchOnce(agent: ExternalAgent, instance: Instance): Promise<void> {
    instance.fetching ??= fetchInstance(agent, instance).finally(() => {
      instance.fetching = undefined
    })
    return instance.fetching
  }

  const fetchAll = (agent: ExternalAgent) =>
    Promise.all(agent.instances.map((instance) => fetchOnce(agent, instance))).then(() => undefined)

  function open(record: UpstreamRecord): ExternalAgent {
    let credentials: UpstreamCredentials | undefined
    let credentialsProblem: string | undefined
    try {
      credentials = openCredentials(upstreams.box(), record)
    } catch {
      credentialsProblem =
        'the stored credentials do not open with this node’s key (upstreams.secretKey or the pairing secret changed): register the agent again'
    }
    return {
      record,
      credentials,
      credentialsProblem,
      name: null,
      description: null,
      capabilities: [],
      signatureVerified: null,
      instances: record.urls.map((url, index) => ({
        url,
        cardUrl: cardUrlOf(url),
        index,
        state: 'pending',
        lastFetchAt: null,
        lastError: null,
        client: undefined,
        registeredAs: undefined,
        hosted: undefined,
        fetching: undefined,
      })),
      specs: undefined,
      standIn: undefined,
      closed: false,
    }
  }

  function close(agent: ExternalAgent): void {
    agent.closed = true
    for (const instance of agent.instances) unhost(instance)
    updateStandIn(agent)
  }

  /**
   * Brings this node's agents in line with the store: new ones fetched, changed ones redone, gone ones closed. The
   * fetches are not awaited here (other upstream listeners would wait on them); `add` awaits its own.
   */
  function sync(records: UpstreamRecord[]): void {
    const seen = new Set<string>()
    for (const record of records) {
      seen.add(record.id)
      const current = agents.get(record.id)
      if (current !== undefined && current.record.updatedAt === record.updatedAt) continue
      if (current !== undefined) close(current)
      const agent = open(record)
      agents.set(record.id, agent)
      fetchAll(agent).catch((error: unknown) => logger.warn({ err: error }, 'external A2A fetch failed'))
    }
    for (const [agentId, agent] of agents) {
      if (seen.has(agentId)) continue
      close(agent)
      agents.delete(agentId)
    }
  }

  async function resolveAgentId(request: AddA2aAgentRequest): Promise<string> {
    if (request.agentId !== undefined) return request.agentId
    const first = request.urls[0] as string
    try {
      const { card } = await fetchAgentCard(cardUrlOf(first), {
        fetchImpl: fetchWithCredentials(request.credentials),
        timeoutMs: options.fetchTimeoutMs,
      })
      const agentId = agentIdOfName(card.name)
      if (agentId.length > 0) return agentId
    } catch (error) {
      throw new GatewayError(
        'bad_request',
        `no agentId given and the card could not be read to name the agent (${reasonOf(error)}): give agentId`,
      )
    }
    throw new GatewayError('bad_request', 'no agentId given and the card has no usable name: give agentId')
  }

  return {
    async add(request) {
      for (const url of request.urls) {
        const parsed = new URL(url)
        if (parsed.username !== '' || parsed.password !== '') {
          throw new GatewayError('bad_request', 'urls must not carry credentials: give them in `credentials`')
        }
      }
      const agentId = await resolveAgentId(request)
      await upstreams.store().create(
        {
          kind: 'a2a',
          id: agentId,
          urls: request.urls,
          credentials: sealCredentials(upstreams.box(), 'a2a', agentId, request.credentials),
        },
        now(),
      )
      await upstreams.watch.changed()
      const agent = agents.get(agentId)
      if (agent === undefined)
        throw new GatewayError('unavailable', 'the agent was stored but is not loaded yet')
      await fetchAll(agent)
      return info(agent)
    },

    async remove(agentId) {
      if (!(await upstreams.store().delete('a2a', agentId))) return false
      await upstreams.watch.changed()
      return true
    },

    async refresh(agentId) {
      const agent = agents.get(agentId)
      if (agent === undefined) return undefined
      await fetchAll(agent)
      return info(agent)
    },

    list: () => [...agents.values()].map(info),

    start() {
      unwatch = upstreams.watch.onChange('a2a', sync)
      timer = setInterval(() => {
        for (const agent of agents.values()) {
          fetchAll(agent).catch((error: unknown) =>
            logger.warn({ err: error }, 'external A2A refresh failed'),
          )
        }
      }, options.refreshIntervalMs)
      timer.unref()
    },

    stop() {
      unwatch?.()
      unwatch = undefined
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
      for (const agent of agents.values()) close(agent)
      agents.clear()
    },
  }
}
