import type { Logger } from 'pino'
import { registerAuditVerificationRoutes } from '../admin/audit-verification-routes.js'
import { registerTimeseriesRoutes } from '../admin/timeseries-routes.js'
import { createAuditVerification } from '../audit/audit-verification.js'
import type { ClusterBus } from '../bus/types.js'
import { auditCheckpointPaths, type GatewayConfig } from '../config.js'
import type { GatewayApp } from '../http/create-app.js'
import type { StoreSlot } from '../stores/open-stores.js'
import { createFigureSampler } from '../timeseries/figure-sampler.js'
import { createTimeseriesCluster } from '../timeseries/timeseries-cluster.js'
import type { GatewayNode } from './node-assembly.js'

export interface ObservabilityAssemblyOptions {
  app: GatewayApp
  config: GatewayConfig
  logger: Logger
  node: GatewayNode
  stores: StoreSlot
  bus: ClusterBus
}

/**
 * What the dashboard's charts and audit badge read: the sampled time series of this node's figures, merged
 * over the cluster (timeseries/), and the kept verification of the audit chain (audit/audit-verification.ts),
 * with their admin routes. `start()` starts the one sampling timer and the bus listeners; `stop()` ends them.
 */
export function assembleObservability(options: ObservabilityAssemblyOptions) {
  const { app, config, logger, node, stores, bus } = options
  const { hub } = node
  const sampler = createFigureSampler({
    sources: {
      totals: hub.stats,
      activity: hub.agents.activity,
      forEachChannel: (visit) => hub.channels.forEachChannel(visit),
      deadLetters: async () =>
        stores.get('deliveries') === undefined ? undefined : (await hub.deliveries.stats()).deadLetters,
    },
    logger: logger.child({ component: 'timeseries' }),
  })
  const timeseries = createTimeseriesCluster({
    bus,
    sampler,
    nodes: () => hub.cluster.nodes(),
    logger: logger.child({ component: 'timeseries' }),
  })
  registerTimeseriesRoutes(app, { timeseries })
  const verifier = createAuditVerification({
    audit: () => (config.audit.enabled ? stores.get('audit') : undefined),
    ...auditCheckpointPaths(config),
  })
  registerAuditVerificationRoutes(app, { verifier })
  return {
    start(): void {
      sampler.start()
      timeseries.start()
    },
    stop(): void {
      timeseries.stop()
      sampler.stop()
    },
  }
}

export type GatewayObservability = ReturnType<typeof assembleObservability>
