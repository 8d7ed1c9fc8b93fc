import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AuditLog,
  createMemoryAuditLog,
  createMemorySessionBindingStore,
  createMemoryTokenStore,
  type TokenStore,
} from '@parley/stores'
import { pino } from 'pino'
import { type GatewayConfigInput, parseConfig } from '../../src/config.js'
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
  dataDir: string
  /** Stops the gateway (if still running) and removes its data folder. */
  dispose(): Promise<void>
}

/**
 * A real gateway on port 0 with a silent logger, its own temporary data folder and, unless told otherwise,
 * an in-memory audit log the test can read back and in-memory token and session stores (so no database is
 * opened just for them).
 */
export async function startTestGateway(
  config: GatewayConfigInput = {},
  options: Omit<Partial<CreateGatewayOptions>, 'config'> & { memoryAudit?: boolean } = {},
): Promise<TestGateway> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-gateway-test-'))
  const { memoryAudit = true, ...rest } = options
  const audit = rest.audit ?? (memoryAudit ? createMemoryAuditLog() : undefined)
  const tokens = rest.tokenStore ?? createMemoryTokenStore()
  const gateway = createGateway({
    logger: pino({ level: 'silent' }),
    adminToken: TEST_ADMIN_TOKEN,
    sessionBinding: createMemorySessionBindingStore(),
    ...rest,
    tokenStore: tokens,
    ...(audit === undefined ? {} : { audit }),
    config: parseConfig(mergeConfigInputs({ port: 0, dataDir }, config)),
  })
  const started = await gateway.start()
  return {
    gateway,
    started,
    audit,
    tokens,
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
