import type { Logger } from 'pino'
import type { GatewayHttp } from './http-assembly.js'
import type { GatewayNode } from './node-assembly.js'
import type { StoreProbes } from './store-probes.js'

const DEFAULT_DRAIN_TIMEOUT_MS = 5_000
const RECONNECT_AFTER_SHUTDOWN_MS = 1_000

export interface DrainOptions {
  node: GatewayNode
  http: GatewayHttp
  probes: StoreProbes
  logger: Logger
  /** Whether the gateway was serving: only then are clients told to go and waited for. */
  wasRunning: boolean
  /** How long clients get to close after `shutdown` before they are cut off. */
  drainTimeoutMs?: number
  reason?: string
}

/**
 * The first half of a stop, in reverse assembly order: timers and probes stop, every client is sent
 * `shutdown` and closed with 1001 (cut off after the drain timeout), then the agent, A2A and MCP parts stop
 * and the node leaves the cluster. The stores, the bus and the server close after (create-gateway.ts).
 */
export async function drainGateway(options: DrainOptions): Promise<void> {
  const { node, http, probes, logger } = options
  const { hub } = node
  http.mcpRoutes?.stop()
  http.observability.stop()
  hub.heartbeat.stop()
  hub.presence?.stop()
  hub.devices.stop()
  probes.stop()
  if (options.wasRunning) {
    const reason = options.reason ?? 'gateway is shutting down'
    logger.info({ connections: hub.connections.size }, 'draining')
    hub.shutdown(reason, RECONNECT_AFTER_SHUTDOWN_MS)
    const drained = await hub.waitForNoConnections(options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS)
    if (!drained) {
      logger.warn({ connections: hub.connections.size }, 'drain timed out; cutting remaining connections')
      hub.terminateAll()
      await hub.waitForNoConnections(1_000)
    }
  }
  hub.sessions.stop()
  node.introductions.stop()
  await node.capture.stop()
  node.access.stop()
  http.a2aTaskRetention.stop()
  http.externalAgents.stop()
  await http.mcpUpstreams.stop()
  await http.a2aPush.stop()
  http.a2aOrphans.stop()
  node.upstreams.watch.stop()
  await leaveCluster(node, logger)
}

/** Leaves the cluster before the stores close: no more remote fan-out, wakes or registry refreshes. */
async function leaveCluster(node: GatewayNode, logger: Logger): Promise<void> {
  try {
    await node.hub.agents.stop()
    await node.hub.cluster.stop()
    node.hub.closeRelay()
  } catch (error) {
    logger.error({ err: error }, 'leaving the cluster failed during shutdown')
  }
}
