import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { type GatewayConfigInput, parseConfig } from '../../../src/config.js'
import { type CreateGatewayOptions, createGateway } from '../../../src/create-gateway.js'
import { mergeConfigInputs } from '../../../src/env.js'
import { type ScenarioNode, SUITE_STORE_TIMEOUT_S } from './fault-scenario.js'

export interface FaultGateway extends ScenarioNode {
  dispose(): Promise<void>
}

/**
 * A real gateway on port 0 with its own data folder and the stores its config names (nothing injected
 * unless `options` says so), answering store calls within the suite's store timeout. Its log goes to
 * stderr at `warn` when PARLEY_FAULT_LOG is set, to explain a failure; silent otherwise.
 */
export async function startFaultGateway(
  config: GatewayConfigInput,
  options: Omit<Partial<CreateGatewayOptions>, 'config'> = {},
): Promise<FaultGateway> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-fault-'))
  const gateway = createGateway({
    logger: pino({ level: process.env.PARLEY_FAULT_LOG === undefined ? 'silent' : 'warn' }),
    adminToken: 'fault-suite-admin-token-0123456789',
    ...options,
    config: parseConfig(
      mergeConfigInputs(
        {
          port: 0,
          dataDir,
          stores: { timeout: SUITE_STORE_TIMEOUT_S },
          // Everything a scenario publishes stays in the history, so any catch-up can be answered.
          history: { size: 100_000, ttl: 3_600 },
        },
        config,
      ),
    ),
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
