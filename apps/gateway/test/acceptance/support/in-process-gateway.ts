import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createMemoryAgentKeyStore,
  createMemoryAuditLog,
  createMemoryDevicePairingStore,
  createMemoryPairingStore,
  createMemorySessionBindingStore,
  createMemoryTokenStore,
} from '@parley/stores'
import { pino } from 'pino'
import { type GatewayConfigInput, parseConfig } from '../../../src/config.js'
import { createGateway, type Gateway, type StartedGateway } from '../../../src/create-gateway.js'
import { mergeConfigInputs } from '../../../src/env.js'

export interface InProcessGateway {
  gateway: Gateway
  started: StartedGateway
  dispose(): Promise<void>
}

/** A real gateway on port 0 with a silent logger, an in-memory audit log and its own data folder. */
export async function startInProcessGateway(config: GatewayConfigInput): Promise<InProcessGateway> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-acceptance-'))
  const gateway = createGateway({
    logger: pino({ level: 'silent' }),
    adminToken: 'acceptance-admin-token-0123456789',
    audit: createMemoryAuditLog(),
    tokenStore: createMemoryTokenStore(),
    sessionBinding: createMemorySessionBindingStore(),
    pairingStore: createMemoryPairingStore({ secret: new Uint8Array(32).fill(7) }),
    devicePairing: createMemoryDevicePairingStore(),
    agentKeys: createMemoryAgentKeyStore(),
    config: parseConfig(mergeConfigInputs({ port: 0, dataDir }, config)),
  })
  const started = await gateway.start()
  return {
    gateway,
    started,
    async dispose() {
      await gateway.stop({ drainTimeoutMs: 1_000 })
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
