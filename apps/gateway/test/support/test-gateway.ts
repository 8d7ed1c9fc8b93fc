import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AgentKeyStore,
  type AuditLog,
  createMemoryAgentKeyStore,
  createMemoryAuditLog,
  createMemoryDevicePairingStore,
  createMemoryGrantStore,
  createMemoryPairingStore,
  createMemoryPolicyStore,
  createMemorySessionBindingStore,
  createMemoryTokenStore,
  type DevicePairingStore,
  type PairingStore,
  type TokenStore,
} from '@parley/stores'
import { pino } from 'pino'
import { type GatewayConfig, type GatewayConfigInput, parseConfig } from '../../src/config.js'
import {
  type CreateGatewayOptions,
  createGateway,
  type Gateway,
  type StartedGateway,
} from '../../src/create-gateway.js'
import { mergeConfigInputs } from '../../src/env.js'

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789'

export interface TestGateway {
  gateway: Gateway
  started: StartedGateway
  audit: AuditLog | undefined
  /** The token store the gateway uses (a memory one unless the test passed its own). */
  tokens: TokenStore
  /** The pairing, device and agent key stores the gateway uses (memory ones unless the test passed its own). */
  pairing: PairingStore
  devices: DevicePairingStore
  agentKeys: AgentKeyStore
  dataDir: string
  /** Stops the gateway (if still running) and removes its data folder. */
  dispose(): Promise<void>
}

/**
 * A real gateway on port 0 with a silent logger, its own temporary data folder and, unless told otherwise,
 * an in-memory audit log the test can read back, in-memory token and session stores and the `memory` delivery
 * store backend (so no database is opened just for them).
 */
export async function startTestGateway(
  config: GatewayConfigInput = {},
  options: Omit<Partial<CreateGatewayOptions>, 'config'> & { memoryAudit?: boolean } = {},
): Promise<TestGateway> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-gateway-test-'))
  const { memoryAudit = true, ...rest } = options
  const audit = rest.audit ?? (memoryAudit ? createMemoryAuditLog() : undefined)
  const tokens = rest.tokenStore ?? createMemoryTokenStore()
  // The memory store backend unless the test names one: the default (the database) would open a database
  // for every test gateway.
  const parsed = parseConfig(
    mergeConfigInputs({ port: 0, dataDir, delivery: { storeBackend: 'memory' } }, config),
  )
  const pairing = rest.pairingStore ?? memoryPairingStore(parsed)
  const devices = rest.devicePairing ?? createMemoryDevicePairingStore()
  const agentKeys = rest.agentKeys ?? createMemoryAgentKeyStore()
  const gateway = createGateway({
    logger: pino({ level: 'silent' }),
    adminToken: TEST_ADMIN_TOKEN,
    sessionBinding: createMemorySessionBindingStore(),
    ...rest,
    // Memory policy and grant stores unless the test shares its own between nodes (or passes a database).
    policyStore: rest.policyStore ?? createMemoryPolicyStore({ defaultEffect: parsed.policies.default }),
    grantStore: rest.grantStore ?? createMemoryGrantStore(),
    tokenStore: tokens,
    pairingStore: pairing,
    devicePairing: devices,
    agentKeys,
    ...(audit === undefined ? {} : { audit }),
    config: parsed,
  })
  const started = await gateway.start()
  return {
    gateway,
    started,
    audit,
    tokens,
    pairing,
    devices,
    agentKeys,
    dataDir,
    async dispose() {
      await gateway.stop({ drainTimeoutMs: 1_000 })
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

export function adminHeaders(token = TEST_ADMIN_TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** A memory pairing store with the limits of the gateway's config, as the default Postgres one gets them. */
export function memoryPairingStore(config: GatewayConfig): PairingStore {
  return createMemoryPairingStore({
    secret: new Uint8Array(32).fill(7),
    codeTtlMs: Math.round(config.pairing.codeTtl * 1000),
    maxPendingPerChannelType: config.pairing.maxPending,
    maxFailedAttempts: config.pairing.maxFailedAttempts,
  })
}
