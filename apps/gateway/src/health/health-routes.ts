import type { Health, Readiness } from '@parley/protocol'
import { mountAdminRoutes } from '../admin/admin-routes.js'
import type { BusState } from '../bus/types.js'
import type { GatewayApp } from '../http/create-app.js'
import type { CheckResult } from './store-probe.js'

export type { CheckResult } from './store-probe.js'

export interface HealthRouteDeps {
  version: string
  startedAt: number
  connections: () => number
  isDraining: () => boolean
  isListening: () => boolean
  /**
   * Latest result of the background database probe (see store-probe.ts); undefined when the gateway has no
   * database (an injected in-memory audit log). Read, never awaited: no route here waits on a store.
   */
  databaseCheck: (() => CheckResult | undefined) | undefined
  /** Latest result of the delivery store's own server probe (Redis); undefined when it has none. */
  deliveryStoreCheck?: (() => CheckResult | undefined) | undefined
  /** The cluster bus state; undefined for callers without one. */
  busState?: () => BusState
  /** Active agent instances cluster-wide, as this node's directory knows them. */
  connectedAgents?: () => number
}

/**
 * `GET /health` (cheap, always 200) and `GET /ready` (503 while draining or when a store fails its probe).
 * Both answer from memory: a store that hangs cannot hold them.
 */
export function registerHealthRoutes(app: GatewayApp, deps: HealthRouteDeps): void {
  mountAdminRoutes(app, {
    health: (): Health => ({
      status: deps.isDraining()
        ? 'draining'
        : deps.databaseCheck?.()?.ok === false ||
            deps.deliveryStoreCheck?.()?.ok === false ||
            deps.busState?.() === 'degraded'
          ? 'degraded'
          : 'ok',
      connections: deps.connections(),
      connected_agents: deps.connectedAgents?.() ?? 0,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 100) / 10,
      version: deps.version,
      timestamp: new Date().toISOString(),
    }),
  })

  app.get('/ready', (c) => {
    const draining = deps.isDraining()
    const checks: Readiness['checks'] = {
      server: draining
        ? { ok: false, message: 'draining' }
        : deps.isListening()
          ? { ok: true }
          : { ok: false, message: 'not listening' },
    }
    if (deps.databaseCheck !== undefined) checks.database = deps.databaseCheck() ?? NOT_CHECKED
    if (deps.deliveryStoreCheck !== undefined) checks.store = deps.deliveryStoreCheck() ?? NOT_CHECKED
    const bus = deps.busState?.()
    // Reported, but not required: a node whose bus is degraded still serves its own clients, and taking
    // it out of the load balancer would move them onto nodes that may have lost Redis too.
    // A lone node (bus `local`) has no bus to check.
    const busCheck = bus === undefined || bus === 'local' ? undefined : { ok: bus === 'ok', message: bus }
    const ready = Object.values(checks).every((check) => check.ok)
    if (busCheck !== undefined) checks.bus = busCheck
    const body: Readiness = { ready, checks }
    return c.json(body, ready ? 200 : 503)
  })
}

const NOT_CHECKED: CheckResult = { ok: false, message: 'not checked yet' }
