/**
 * Starts the gateway through its public API (`createGateway` + `parseConfig`) when no CLI entry point
 * exists yet, with the same settings the bench passes to `parley serve`. Usage: parley-server.ts <port>
 * <maxConnections> <dataDir>.
 */
import { portFromArgs } from './health.js'

/** The slice of `@parley/gateway` this launcher uses. */
interface GatewayModule {
  parseConfig(input: Record<string, unknown>): unknown
  createGateway(options: { config: unknown; adminToken?: string }): {
    start(): Promise<{ port: number; url: string }>
    stop(options?: { drainTimeoutMs?: number }): Promise<void>
  }
}

// Imported by a computed name so that typechecking the bench never compiles the gateway's sources:
// the two are built in parallel, and the bench must keep working while the gateway changes.
const gatewayPackage = '@parley/gateway'
const { createGateway, parseConfig } = (await import(gatewayPackage)) as GatewayModule

const port = portFromArgs()
const gateway = createGateway({
  config: parseConfig({
    host: '127.0.0.1',
    port,
    databaseUrl: 'memory://',
    maxConnections: Number(process.argv[3] ?? 5000),
    heartbeatInterval: Number(process.env.PARLEY_HEARTBEAT_INTERVAL ?? 600),
    logLevel: 'warn',
    dataDir: process.argv[4] ?? process.env.PARLEY_DATA_DIR,
  }),
  adminToken: process.env.PARLEY_ADMIN_TOKEN,
})
await gateway.start()
process.on('SIGTERM', () => {
  gateway.stop({ drainTimeoutMs: 500 }).finally(() => process.exit(0))
})
