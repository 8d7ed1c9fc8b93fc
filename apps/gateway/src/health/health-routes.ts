import type { Health, Readiness } from '@parley/protocol'
import type { BusState } from '../bus/types.js'
import type { GatewayApp } from '../http/create-app.js'

export type CheckResult = { ok: true } | { ok: false; message: string }

export interface HealthRouteDeps {
  version: string
  startedAt: number
  connections: () => number
  isDraining: () => boolean
  isListening: () => boolean
  /** Probes the database; undefined when the gateway has none (an injected in-memory audit log). */
  checkDatabase: (() => Promise<CheckResult>) | undefined
  /** Result of the latest database probe, so `/health` stays cheap. */
  lastDatabaseCheck: () => CheckResult | undefined
  /** The cluster bus state; undefined for callers without one. */
  busState?: () => BusState
  /** Active agent instances cluster-wide, as this node's directory knows them. */
  connectedAgents?: () => number
}

/** `GET /health` (cheap, always 200) and `GET /ready` (503 while draining or when the database fails). */
export function registerHealthRoutes(app: GatewayApp, deps: HealthRouteDeps): void {
  app.get('/health', (c) => {
    const body: Health = {
      status: deps.isDraining()
        ? 'draining'
        : deps.lastDatabaseCheck()?.ok === false || deps.busState?.() === 'degraded'
          ? 'degraded'
          : 'ok',
      connections: deps.connections(),
      connected_agents: deps.connectedAgents?.() ?? 0,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 100) / 10,
      version: deps.version,
      timestamp: new Date().toISOString(),
    }
    return c.json(body)
  })

  app.get('/ready', async (c) => {
    const draining = deps.isDraining()
    const checks: Readiness['checks'] = {
      server: draining
        ? { ok: false, message: 'draining' }
        : deps.isListening()
          ? { ok: true }
          : { ok: false, message: 'not listening' },
    }
    if (deps.checkDatabase !== undefined) checks.database = await deps.checkDatabase()
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
